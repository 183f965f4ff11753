x = 10
y = 0
TALK "before"
TALK x / y
TALK "never"
