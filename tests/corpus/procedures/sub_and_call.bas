SUB Greet(who, greeting)
  TALK greeting & ", " & who & "!"
END SUB
CALL Greet("Ann", "Hello")
Greet("Bob", "Hi")
SUB NoArgs
  TALK "no arguments"
END SUB
CALL NoArgs
CALL NoArgs()
