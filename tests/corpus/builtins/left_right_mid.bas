s = "Hello, World"
TALK LEFT(s, 5)
TALK RIGHT(s, 5)
TALK MID(s, 8, 5)
TALK MID(s, 8)
TALK "[" & LEFT(s, 0) & "]"
TALK LEFT(s, 100)
TALK RIGHT("abc", 10)
TALK "[" & MID(s, 50) & "]"
TALK MID("ação", 2, 2)
