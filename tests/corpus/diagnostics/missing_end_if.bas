x = 1
IF x > 0 THEN
  TALK "positive"
TALK "end of file"
