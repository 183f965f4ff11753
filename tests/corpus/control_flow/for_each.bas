FOR EACH fruit IN ["apple", "pear"]
  TALK fruit
NEXT fruit
FOR EACH ch IN "abc"
  TALK ch
NEXT
FOR EACH v IN { a: 1, b: 2 }
  TALK v
NEXT
FOR EACH unused IN NULL
  TALK "never"
NEXT
FOR EACH n IN []
  TALK "never"
NEXT
TALK "done"
