xs = [1, 2]
TALK xs * 2
