n = 0
DO
  n = n + 1
LOOP
