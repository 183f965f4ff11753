m = { name: "x", "k": 1, "with space": TRUE, nested: { a: [1, 2] } }
TALK m.name
TALK m.k
TALK m["with space"]
TALK m.nested.a[1]
TALK {}
TALK LEN(m)
