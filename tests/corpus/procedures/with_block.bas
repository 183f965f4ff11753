WITH person
  name = "Ann"
  age = 30
  address.city = "Rio"
END WITH
TALK person.name & " " & person.age & " " & person.address.city
WITH person
  age = person.age + 1
  .email = "ann@example.com"
END WITH
TALK person.age
TALK person.email
TALK TOJSON(person)
