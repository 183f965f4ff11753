SET BOT MEMORY "visits", 1
SET BOT MEMORY "visits", GET BOT MEMORY("visits") + 1
TALK GET BOT MEMORY("visits")
key = "profile"
SET BOT MEMORY key, { name: "Ann", tags: ["a", "b"] }
p = GET BOT MEMORY(key)
TALK p.name & " " & p.tags[1]
TALK ISNULL(GET BOT MEMORY("never set"))
set bot memory "lower", "case"
TALK get bot memory("lower")
