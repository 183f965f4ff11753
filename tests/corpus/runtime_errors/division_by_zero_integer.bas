zero = 0
TALK 7 \ zero
