parts = SPLIT("a,b,,c", ",")
TALK LEN(parts)
TALK parts[3]
TALK JOIN(parts, "|")
TALK JOIN(SPLIT("x y z", " "), "-")
TALK JOIN(SPLIT("abc", ""), ".")
TALK JOIN([1, 2.5, TRUE])
TALK "[" & JOIN([], ",") & "]"
TALK LEN(SPLIT("", ","))
