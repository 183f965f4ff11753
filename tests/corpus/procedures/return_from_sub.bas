SUB Check(n)
  IF n < 0 THEN
    TALK "negative"
    RETURN
  END IF
  TALK "fine"
END SUB
CALL Check(-1)
CALL Check(1)
TALK "script goes on"
