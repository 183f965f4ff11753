CALL Nope(1)
Undefined(3)
x = Absent(4)
