empty = []
TALK LEN(empty)
xs = [1, "two", 3.5, TRUE, NULL, [4, 5]]
TALK LEN(xs)
TALK xs[1]
TALK xs[5][1]
TALK xs
