x = 1
IF x = 2 THEN
  data = GET("https://example.com/api")
END IF
TALK "skipped the unavailable call"
