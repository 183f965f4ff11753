' A parser stack overflow would crash the server: deep nesting is an error instead.
IF TRUE THEN
  IF TRUE THEN
    IF TRUE THEN
      IF TRUE THEN
        IF TRUE THEN
          IF TRUE THEN
            IF TRUE THEN
              IF TRUE THEN
                IF TRUE THEN
                  IF TRUE THEN
                    IF TRUE THEN
                      IF TRUE THEN
                        IF TRUE THEN
                          IF TRUE THEN
                            IF TRUE THEN
                              IF TRUE THEN
                                IF TRUE THEN
                                  IF TRUE THEN
                                    IF TRUE THEN
                                      IF TRUE THEN
                                        IF TRUE THEN
                                          IF TRUE THEN
                                            IF TRUE THEN
                                              IF TRUE THEN
                                                IF TRUE THEN
                                                  IF TRUE THEN
                                                    IF TRUE THEN
                                                      IF TRUE THEN
                                                        IF TRUE THEN
                                                          IF TRUE THEN
                                                            TALK "deep"
                                                          END IF
                                                        END IF
                                                      END IF
                                                    END IF
                                                  END IF
                                                END IF
                                              END IF
                                            END IF
                                          END IF
                                        END IF
                                      END IF
                                    END IF
                                  END IF
                                END IF
                              END IF
                            END IF
                          END IF
                        END IF
                      END IF
                    END IF
                  END IF
                END IF
              END IF
            END IF
          END IF
        END IF
      END IF
    END IF
  END IF
END IF
