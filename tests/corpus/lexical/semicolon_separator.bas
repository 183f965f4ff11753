x = 1; y = 2; TALK x + y
