' Ordinary work stays far below every limit.
total = 0
FOR i = 1 TO 10000
  total = total + i
NEXT
TALK total
s = ""
FOR i = 1 TO 1000
  s = s & "x"
NEXT
TALK LEN(s)
