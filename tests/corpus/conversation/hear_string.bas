TALK "What is your name?"
HEAR name
TALK "Hello, " & name & "!"
HEAR again AS STRING
TALK "[" & again & "]"
