TALK "When?"
HEAR d AS DATE
TALK "Booked for " & d
HEAR d2 AS DATE
TALK d2
