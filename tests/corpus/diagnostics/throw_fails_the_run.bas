' THROW / RAISE: the script fails on purpose, with its message; TRY catches it.
TRY
  THROW "order " & 7 & " is invalid"
CATCH e
  TALK "caught: " & e
END TRY
RAISE "stopped on purpose"
TALK "never"
