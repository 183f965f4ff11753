x = 
y = 2
z = )
TALK "ok"
w = (1 + 2
