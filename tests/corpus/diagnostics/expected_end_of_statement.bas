x = 1 2
TALK "a" "b"
