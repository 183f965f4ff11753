# Item 10: '#' comment lines, REM, ' and //, strings over several lines, and
# continuation lines of a keyword's clauses.
REM an old comment
x = 1 ' trailing comment
y = 2 // another
prompt = "Summarize the order
in two lines,
politely."
TALK prompt
TALK "a" +
  "b" &
  "c"
TALK `backtick
string`
total = SUM([x,
  y,
  3])
TALK total
summary = LLM "Summarize " + prompt
  WITH OPTIMIZE FOR "speed"
TALK summary
