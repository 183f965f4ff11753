FOR i = 1 TO 10
  IF i = 4 THEN EXIT FOR
  TALK i
NEXT
TALK "stopped at " & i
FOR EACH name IN ["a", "stop", "b"]
  IF name = "stop" THEN
    EXIT FOR
  END IF
  TALK name
NEXT
FOR i = 1 TO 2
  FOR j = 1 TO 5
    IF j > 2 THEN EXIT FOR
    TALK i & "." & j
  NEXT j
NEXT i
