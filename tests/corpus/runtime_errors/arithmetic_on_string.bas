TALK "abc" - 1
