USE KB "x"
y = FROB(1)
z = LLM "q"
