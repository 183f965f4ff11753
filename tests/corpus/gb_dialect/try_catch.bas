' TRY … CATCH [name] … END TRY: a failure in the body runs the handler with its text.
TRY
  x = 1 / 0
  TALK "not here"
CATCH e
  TALK "caught: " & e
END TRY
TRY
  SEND MAIL "a@b.c", "s", "b"
CATCH
  TALK "no mail: " & err
END TRY
TRY
  TALK "fine"
END TRY
TALK "end"
