total = 1 + _
  2 + _
  3
TALK total
TALK "a" & _ ' a comment after the underscore
  "b"
TALK "c" & _ // a slash comment after the underscore
  "d"
