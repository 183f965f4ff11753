x = 1
TALK "abc
TALK "def"
