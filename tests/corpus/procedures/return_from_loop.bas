FUNCTION FindIndex(xs, wanted)
  i = 0
  FOR EACH x IN xs
    IF x = wanted THEN RETURN i
    i = i + 1
  NEXT
  RETURN -1
END FUNCTION
TALK FindIndex(["a", "b", "c"], "b")
TALK FindIndex(["a"], "z")
