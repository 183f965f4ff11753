s = "xxxxxxxxxx"
FOR i = 1 TO 10
  s = REPLACE(s, "x", s)
NEXT
