TALK "[" & never_set & "]"
TALK ISNULL(never_set)
TALK never_set = NULL
IF never_set THEN TALK "set" ELSE TALK "unset is falsy"
count = count + 1
TALK count
