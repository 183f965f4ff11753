x = 1
IF x = 2 THEN
  data = SEARCH("orders", "open")
END IF
TALK "skipped the unavailable call"
