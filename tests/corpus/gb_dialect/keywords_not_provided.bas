' Item 1: General Bots keywords this server does not provide still parse — statement
' and value forms, space and underscore spellings, arguments over several lines.
' check warns at each; running stops at the first one with a clear error.
USE KB "products"
USE_KB "faq"
ADD SUGGESTION "Track my order"
CLEAR SUGGESTIONS
rows = SEARCH "orders", "open"
total = AGGREGATE "SUM", rows, "amount"
SEND SMS "+5511999",
    "Your order",
    "It shipped today."
SEND_SMS("+5511999", "Again", "Still shipped.")
IF LLM("Is this spam?") = "yes" THEN TALK "spam"
TALK "never reached"
