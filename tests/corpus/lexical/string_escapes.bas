TALK "line1\nline2"
TALK "a\tb"
TALK "quote: \"x\""
TALK "back\\slash"
TALK LEN("\n\t\\")
TALK "C:\data\path"
