FOR i = 1 TO 3
  TALK i
NEXT i
FOR j = 3 TO 1
  TALK "never"
NEXT
TALK "j ended at " & j
total = 0
FOR k = 1 TO 100
  total = total + k
NEXT k
TALK total
