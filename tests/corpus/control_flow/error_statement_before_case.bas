SELECT CASE 1
  TALK "where am I"
  CASE 1
    TALK "one"
END SELECT
