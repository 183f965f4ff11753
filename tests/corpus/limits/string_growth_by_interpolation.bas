s = "abcdefgh"
FOR i = 1 TO 100
  s = "${s}${s}"
NEXT
