' Item 8: IS NULL, IS NOT NULL, IS EMPTY.
a = NULL
b = ""
c = [1]
IF a IS NULL THEN TALK "a is null"
IF c IS NOT NULL THEN TALK "c is not null"
IF b IS EMPTY THEN TALK "b is empty"
IF c IS NOT EMPTY AND a IS NOTHING THEN TALK "both"
TALK (b IS NULL)
