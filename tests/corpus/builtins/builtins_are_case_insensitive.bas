TALK len("abc") & Len("ab") & LEN("a")
TALK ucase("x") & UCase("y")
