FOR EACH x IN [5, 2, 0]
  IF x > 3 THEN
    TALK x & " big"
  ELSEIF x > 1 THEN
    TALK x & " mid"
  ELSE
    TALK x & " small"
  END IF
NEXT
