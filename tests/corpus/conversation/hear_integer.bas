TALK "How old are you?"
HEAR age AS INTEGER
TALK "Next year you will be " & age + 1
