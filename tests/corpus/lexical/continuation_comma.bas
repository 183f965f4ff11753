items = [1,
  2,
  3]
TALK LEN(items)
TALK MAX(10,
  20)
person = { name: "Ann",
  age: 30 }
TALK person.age
