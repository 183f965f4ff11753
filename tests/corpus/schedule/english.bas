REM General Bots' plain-English forms, and its underscore spelling with parentheses.
SET_SCHEDULE("every day at 9:30am")
TALK "daily"
