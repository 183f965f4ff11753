FUNCTION Grade(score)
  IF score >= 90 THEN
    RETURN "A"
  ELSEIF score >= 80 THEN
    RETURN "B"
  ELSE IF score >= 70 THEN
    RETURN "C"
  ELSEIF score >= 60 THEN
    RETURN "D"
  END IF
  RETURN "F"
END FUNCTION
TALK Grade(95) & Grade(85) & Grade(75) & Grade(65) & Grade(10)
