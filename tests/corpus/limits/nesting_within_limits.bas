' Nesting that real scripts use is far below the limits.
FOR i0 = 1 TO 1
  FOR i1 = 1 TO 1
    FOR i2 = 1 TO 1
      FOR i3 = 1 TO 1
        FOR i4 = 1 TO 1
          FOR i5 = 1 TO 1
            FOR i6 = 1 TO 1
              FOR i7 = 1 TO 1
                FOR i8 = 1 TO 1
                  FOR i9 = 1 TO 1
                    TALK (1 + (1 + (1 + (1 + (1 + (1 + (1 + (1 + (1 + (1 + (1 + (1 + (1 + (1 + (1 + (1 + (1 + (1 + (1 + (1 + 1))))))))))))))))))))
                  NEXT
                NEXT
              NEXT
            NEXT
          NEXT
        NEXT
      NEXT
    NEXT
  NEXT
NEXT
TALK "${"${"${1 + 1}"}"}"
