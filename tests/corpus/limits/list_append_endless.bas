' Each append copies the list, so this loop does far more work than its operation
' count says: the computing-time limit stops it (the position varies with timing).
xs = []
DO
  xs = xs + [LEN(xs)]
LOOP
