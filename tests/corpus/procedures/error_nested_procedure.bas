SUB Outer()
  SUB Inner()
  END SUB
END SUB
