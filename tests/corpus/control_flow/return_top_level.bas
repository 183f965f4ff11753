TALK "before"
IF TRUE THEN
  RETURN "the result"
END IF
TALK "never"
