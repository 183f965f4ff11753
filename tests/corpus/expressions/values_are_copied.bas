a = [1, 2]
b = a
b[0] = 99
TALK a
TALK b
m = { x: 1 }
n = m
n.x = 2
TALK m.x & n.x
