x = MID("abc", 0, 1)
