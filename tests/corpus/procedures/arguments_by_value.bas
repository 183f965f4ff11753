SUB AddItem(list)
  list[0] = "changed"
END SUB
items = ["original"]
CALL AddItem(items)
TALK items[0]
