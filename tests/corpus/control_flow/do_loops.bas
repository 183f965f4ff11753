n = 0
DO WHILE n < 2
  TALK "while " & n
  n = n + 1
LOOP
DO UNTIL n = 0
  TALK "until " & n
  n = n - 1
LOOP
DO
  TALK "runs once"
LOOP UNTIL TRUE
DO
  n = n + 1
LOOP WHILE n < 5
TALK n
