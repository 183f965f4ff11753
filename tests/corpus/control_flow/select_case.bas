FUNCTION Describe(n)
  SELECT CASE n
    CASE 0
      RETURN "zero"
    CASE 1, 2
      RETURN "one or two"
    CASE 3 TO 5
      RETURN "three to five"
    CASE IS > 100
      RETURN "huge"
    CASE IS < 0
      RETURN "negative"
    CASE ELSE
      RETURN "other"
  END SELECT
END FUNCTION
FOR EACH n IN [0, 1, 2, 3, 5, 6, 101, -4]
  TALK n & ": " & Describe(n)
NEXT
