FOR EACH answer IN ["yes", "no", "maybe", "YES"]
  SELECT CASE LCASE(answer)
  CASE "yes", "y"
    TALK "agreed"
  CASE "no"
    TALK "refused"
  CASE ELSE
    TALK "unclear: " & answer
  END SELECT
NEXT
SELECT CASE "m"
  CASE "a" TO "k"
    TALK "first half"
  CASE "l" TO "z"
    TALK "second half"
END SELECT
SELECT CASE 42
  CASE 1
    TALK "never"
END SELECT
TALK "no case matched, nothing ran"
