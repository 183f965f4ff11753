FUNCTION Ratio(a, b)
  RETURN a / b
END FUNCTION
TALK Ratio(1, 2)
TALK Ratio(1, 0)
