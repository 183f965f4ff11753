TALK TRUE
TALK FALSE
TALK "[" & NULL & "]"
TALK true = TRUE
TALK ISNULL(null)
x = NULL
IF x THEN TALK "null is true" ELSE TALK "null is falsy"
