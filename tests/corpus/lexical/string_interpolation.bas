name = "World"
n = 3
TALK "Hello ${name}!"
TALK "${n} + ${n} = ${n + n}"
TALK "${UCASE(name)} has ${LEN(name)} letters"
order = { id: 42, items: ["a", "b"] }
TALK "Order ${order.id} has ${LEN(order.items)} items, first ${order.items[0]}"
TALK "missing: [${nothing_here}]"
TALK "literal \${name} and $ alone"
