IF 1 = 1
  TALK "x"
END IF
