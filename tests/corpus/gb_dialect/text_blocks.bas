' Item 3: text blocks take their lines as prose: quotes, apostrophes, bullets, and
' ${} interpolation; indentation common to the lines is removed.
name = "Ana"
BEGIN TALK
    Hello ${name}, here's your "summary":
    - 2 orders shipped
      - 1 on its way
    ' this line is prose, not a comment
END TALK
BEGIN SYSTEM PROMPT
  You are a helpful assistant for ${name}.
  Never promise delivery dates.
END SYSTEM PROMPT
TALK "done"
