' NOW and TODAY change with time: only their shape is asserted.
n = NOW()
TALK LEN(n)
TALK MID(n, 5, 1) & MID(n, 8, 1) & MID(n, 11, 1) & MID(n, 14, 1) & MID(n, 17, 1)
TALK VAL(LEFT(n, 4)) >= 2024
t = TODAY()
TALK LEN(t)
TALK t = LEFT(NOW(), 10) OR RIGHT(n, 8) >= "23:59:59"
