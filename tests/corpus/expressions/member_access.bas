person = { name: "Ann", address: { city: "Rio", zip: "20000" } }
TALK person.name
TALK person.address.city
TALK person.address.zip
TALK person["name"]
key = "address"
TALK person[key].city
TALK "[" & person.age & "]"
TALK ISNULL(person.age)
TALK ISNULL(person.address.street)
TALK ISNULL(person.nothing.deeper)
