SUB Show(x)
  TALK x
END SUB
y = Show(1)
