TALK TOJSON({ name: "Ann", tags: ["a", "b"], age: 30, ok: TRUE, none: NULL })
TALK TOJSON([1, 2.5, "x"])
TALK TOJSON("quote \"")
TALK TOJSON(NULL)
data = FROMJSON("{""order"": {""id"": 7, ""items"": [""a"", ""b""]}, ""paid"": true}")
TALK data.order.id + 1
TALK data.order.items[1]
TALK data.paid
TALK FROMJSON("[1, 2, 3]")[2]
TALK ISNULL(FROMJSON("null"))
back = FROMJSON(TOJSON({ a: [1, { b: "c" }] }))
TALK back.a[1].b
