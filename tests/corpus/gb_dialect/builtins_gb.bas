' Item 2: the built-ins General Bots scripts use.
items = ["a", "b", "c"]
TALK UBOUND(items) & " " & LBOUND(items) & " " & COUNT(items)
TALK IIF(COUNT(items) > 2, "many", "few")
TALK IIF(FALSE, 1 / 0, "lazy")
TALK SUM([1, 2, 3.5]) & " " & SUM(1, 2, 3)
TALK SQR(16) & " " & SQRT(2.25) & " " & ABS(-3) & " " & ROUND(2.5) & " " & INT(7.9)
TALK MIN(3, 9) & " " & MAX(3, 9)
TALK CONTAINS("invoice 42", "42") & " " & STARTSWITH("invoice", "inv") & " " & ENDSWITH("invoice", "ice")
TALK DATEADD("2026-01-31", 1, "month")
TALK DATEADD("2026-12-01", 10, "days")
TALK DATEADD("2026-12-01 10:00:00", 30, "m")
TALK DATEADD("d", 2, "2026-12-30")
TALK DATEADD("2026-12-01", "days", 3)
TALK DATEDIFF("2026-01-01", "2026-03-01", "day") & " " & DATEDIFF("m", "2026-01-15", "2026-03-01")
TALK FORMAT_DATE("2026-07-04 09:05:00", "dd/MM/yyyy HH:mm")
TALK FORMAT(1234.5, "#,##0.00") & " " & FORMAT(42)
TALK FORMAT "2026-07-04" AS "yyyy"
TALK LEN(GUID()) = 36
TALK LOWER("ABC") & UPPER("def") & " " & NVL(NULL, "none") & " " & CINT("2.5") & " " & YEAR("2026-07-04")
first_word = FIRST "hello world"
TALK first_word
