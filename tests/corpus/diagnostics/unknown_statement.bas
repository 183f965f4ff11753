TALK "ok"
FROBNICATE 1, 2
x = 1
Launch rocket
