TALK 1 = 1
TALK 1 = 2
TALK 1 <> 2
TALK 2 < 3
TALK 3 > 2
TALK 2 <= 2
TALK 3 >= 4
TALK "abc" = "abc"
TALK "abc" < "abd"
TALK "B" > "A"
TALK 2 = 2.0
TALK "5" = 5
TALK "10" > 9
TALK NULL = NULL
TALK NULL = 0
TALK NULL = ""
TALK NULL < 1
TALK [1, 2] = [1, 2]
TALK { a: 1 } = { a: 1 }
TALK TRUE = TRUE
