s = "x"
DO
  s = s & s
LOOP
