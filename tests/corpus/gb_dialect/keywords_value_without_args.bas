' A keyword of several words is a value even with no arguments; a one-word keyword
' with nothing after it is a variable of the script (General Bots scripts call
' variables list, query, image, …).
list = [1, 2, 3]
query = "open orders"
TALK query & " " & LEN(list)
FOR EACH item IN list DO
  TALK item
NEXT
n = KB STATISTICS
TALK n
