xs = [10, 20, 30]
TALK xs[0]
TALK xs[2]
TALK xs[1 + 1]
TALK ISNULL(xs[3])
TALK ISNULL(xs[-1])
grid = [[1, 2], [3, 4]]
TALK grid[1][0]
TALK "hello"[1]
i = 0
TALK xs[i]
