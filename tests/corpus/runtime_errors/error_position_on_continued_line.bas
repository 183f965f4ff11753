total = 1 + _
  2 / _
  0
