WITH p
  name = "x"
  TALK "not allowed"
END WITH
