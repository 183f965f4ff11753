SUB Handler()
  ON EVENT "x" DO
  END ON
END SUB
