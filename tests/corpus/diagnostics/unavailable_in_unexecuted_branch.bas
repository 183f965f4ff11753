IF FALSE THEN
  USE KB "manual"
  x = LLM "never asked"
END IF
TALK "warned, but never run"
