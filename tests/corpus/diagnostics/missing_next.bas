FOR i = 1 TO 3
  TALK i
