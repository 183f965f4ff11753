DO
  TALK "x"
