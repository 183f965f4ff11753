FUNCTION Spin()
  DO
  LOOP
END FUNCTION
TALK "spinning"
x = Spin()
