FOR i = 1 TO 2
  IF i = 1 THEN
    TALK i
NEXT
