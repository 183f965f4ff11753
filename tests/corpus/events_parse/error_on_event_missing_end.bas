ON EVENT "x" DO
  TALK "never closed"
