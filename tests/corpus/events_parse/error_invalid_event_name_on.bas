ON EVENT "bad/name" DO
  TALK "x"
END ON
