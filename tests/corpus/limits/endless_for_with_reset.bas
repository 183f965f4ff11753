FOR i = 1 TO 2
  i = 0
NEXT
