TALK "start"
FOR i = 1 TO 3 STEP 0
  TALK i
NEXT
