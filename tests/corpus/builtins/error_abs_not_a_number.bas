x = ABS("ten")
