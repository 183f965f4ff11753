LET a = 1
SET b = a + 1
Let c = b + 1
set d = c + 1
TALK a & b & c & d
