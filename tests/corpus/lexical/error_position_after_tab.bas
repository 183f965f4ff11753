x = 1
	TALK FROB(x)
