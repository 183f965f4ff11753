FOR i = 0 TO 10 STEP 5
  TALK i
NEXT
FOR i = 3 TO 1 STEP -1
  TALK i
NEXT
FOR i = 0 TO 1 STEP 0.25
  TALK i
NEXT
first = 2
last = 8
stride = 3
FOR i = first TO last STEP stride
  TALK "v" & i
NEXT i
