FUNCTION Loud(x)
  TALK "evaluated " & x
  RETURN x
END FUNCTION
IF FALSE AND Loud(1) THEN TALK "no"
IF TRUE OR Loud(2) THEN TALK "yes"
IF TRUE AND Loud(3) THEN TALK "three"
