FOR i = 1 TO 3
  line = ""
  FOR j = 1 TO i
    line = line & "*"
  NEXT j
  TALK line
NEXT i
