FUNCTION Square(n)
  RETURN n * n
END FUNCTION
FUNCTION Hypot(a, b)
  RETURN (Square(a) + Square(b)) ^ 0.5
END FUNCTION
TALK Square(7)
TALK Hypot(3, 4)
x = Square(Square(2))
TALK x
