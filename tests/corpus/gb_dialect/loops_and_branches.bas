' Item 9: END FOR, FOR EACH … DO, SWITCH, EXIT SUB/FUNCTION, bare EXIT.
FOR EACH n IN [1, 2, 3, 4] DO
  IF n = 3 THEN EXIT
  TALK "n " & n
END FOR
FOR i = 1 TO 3
  TALK "i " & i
END FOR
SUB greet(who)
  IF who = "" THEN EXIT SUB
  TALK "hi " & who
END SUB
FUNCTION half(x)
  IF x < 0 THEN EXIT FUNCTION
  RETURN x / 2
END FUNCTION
CALL greet("")
CALL greet("Ana")
TALK half(9) & "|" & half(-1)
SWITCH "b"
  CASE "a"
    TALK "A"
  CASE "b", "c"
    TALK "B or C"
  DEFAULT
    TALK "other"
END SWITCH
SWITCH 5
  CASE 1
    TALK "one"
  DEFAULT
    TALK "default"
END SWITCH
TALK "end"
EXIT
TALK "never"
