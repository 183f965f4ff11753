x = RANDOM(10, 1)
