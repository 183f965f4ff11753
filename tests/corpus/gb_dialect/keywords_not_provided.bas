' Item 1: General Bots keywords this server does not provide still parse — statement
' and value forms, space and underscore spellings, arguments over several lines.
' check warns at each; running stops at the first one with a clear error.
USE KB "products"
USE_KB "faq"
ADD SUGGESTION "Track my order"
CLEAR SUGGESTIONS
rows = FIND "orders", "status=open"
total = AGGREGATE "SUM", rows, "amount"
SEND MAIL "ana@example.com",
    "Your order",
    "It shipped today."
SEND_MAIL("ana@example.com", "Again", "Still shipped.")
IF LLM("Is this spam?") = "yes" THEN TALK "spam"
TALK "never reached"
