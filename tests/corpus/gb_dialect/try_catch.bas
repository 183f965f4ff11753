' TRY … CATCH [name] … END TRY: a failure in the body runs the handler with its text.
TRY
  x = 1 / 0
  TALK "not here"
CATCH e
  TALK "caught: " & e
END TRY
TRY
  SEND SMS "+5511", "b"
CATCH
  TALK "no sms: " & err
END TRY
TRY
  TALK "fine"
END TRY
TALK "end"
