TALK "Hello"
TALK 42
TALK 9.5
TALK TRUE
TALK [1, "a"]
TALK { k: "v" }
TALK "two\nlines"
TALK "a" & 1 + 1
