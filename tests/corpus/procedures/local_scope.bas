x = "global"
SUB Change(y)
  x = "local"
  y = "changed"
  TALK "inside: " & x
END SUB
v = "kept"
CALL Change(v)
TALK "outside: " & x & ", " & v
