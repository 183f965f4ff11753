n = 0
DO
  n = n + 1
  IF n = 3 THEN EXIT DO
LOOP
TALK n
WHILE TRUE
  n = n + 1
  IF n > 5 THEN EXIT DO
WEND
TALK n
