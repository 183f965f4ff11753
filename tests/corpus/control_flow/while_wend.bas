n = 0
WHILE n < 3
  TALK n
  n = n + 1
WEND
WHILE FALSE
  TALK "never"
WEND
m = 2
WHILE m > 0
  m = m - 1
END WHILE
TALK "m=" & m
