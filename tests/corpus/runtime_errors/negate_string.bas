s = "x"
TALK -s
