TALK "a" + "b"
TALK "n=" + 5
TALK 5 + "px"
TALK 1 + 2 + "3"
TALK "1" + 2 + 3
TALK "a" & "b"
TALK 1 & 2
TALK "x" & NULL & "y"
TALK "t" & TRUE
TALK "f" + 1.5
TALK [1, 2] + [3]
