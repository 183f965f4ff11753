' Each new key copies the map, so this loop does far more work than its operation
' count says: the computing-time limit stops it (the position varies with timing).
m = {}
i = 0
DO
  m["k" & i] = i
  i = i + 1
LOOP
