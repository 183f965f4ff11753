' Item 5: words that are keywords elsewhere are names where no statement starts.
PARAM to AS STRING LIKE "ana@example.com" DESCRIPTION "recipient"
PARAM description AS STRING
to = "ana@example.com"
description = "monthly report"
context = "sales"
step = 2
branch = "main"
table = "orders"
event = "paid"
TALK to & " " & description & " " & context & " " & step & " " & branch & " " & table & " " & event
FOR i = 1 TO 5 STEP step
  TALK i
NEXT
