' Windows line endings
x = 1 + _
  2
IF x = 3 THEN
  TALK "three" ' comment
END IF
items = [1,
  2]
TALK LEN(items)
