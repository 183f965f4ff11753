order = {}
order.id = 7
order.customer.name = "Ann"
order["status"] = "new"
TALK order.id & " " & order.customer.name & " " & order.status
xs = [1, 2, 3]
xs[1] = 20
TALK xs
ys = []
ys[2] = "c"
TALK ys
LET a = 1
SET b = 2
TALK a + b
order.lines[0] = "first"
TALK order.lines
