x = FROB(1)
y = LEN(Unknown(2))
