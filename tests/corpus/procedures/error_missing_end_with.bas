WITH p
  name = "x"
