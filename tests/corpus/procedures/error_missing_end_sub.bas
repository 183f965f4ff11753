SUB Open()
  TALK "x"
