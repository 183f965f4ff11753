x = 1
IF x = 2 THEN
  data = FIND("orders", "status=open")
END IF
TALK "skipped the unavailable call"
