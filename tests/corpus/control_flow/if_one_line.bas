x = 5
IF x = 5 THEN TALK "five"
IF x = 4 THEN TALK "four"
IF x = 5 THEN TALK "yes" ELSE TALK "no"
IF x = 4 THEN TALK "yes" ELSE TALK "no"
IF x > 1 THEN y = x * 2 ELSE y = 0
TALK y
IF x THEN TALK "truthy" END IF
