a = [1]
b = { k: 1 }
TALK a < b
