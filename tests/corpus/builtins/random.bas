' RANDOM gives a different value on each call: only ranges are asserted.
allInRange = TRUE
FOR i = 1 TO 200
  r = RANDOM(1, 6)
  IF r < 1 OR r > 6 OR INT(r) <> r THEN allInRange = FALSE
NEXT
TALK allInRange
f = RANDOM()
TALK f >= 0 AND f < 1
n = RANDOM(3)
TALK n >= 0 AND n <= 3
TALK RANDOM(7, 7)
