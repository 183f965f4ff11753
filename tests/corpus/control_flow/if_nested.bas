a = 1
b = 2
IF a = 1 THEN
  IF b = 2 THEN
    TALK "both"
  ELSE
    TALK "only a"
  END IF
  IF b = 3 THEN TALK "never"
END IF
IF a = 2 THEN
  IF b = 2 THEN
    TALK "never"
  END IF
ELSE
  TALK "not a"
END IF
