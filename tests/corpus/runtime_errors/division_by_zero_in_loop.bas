FOR i = 2 TO -1 STEP -1
  TALK 6 / i
NEXT
