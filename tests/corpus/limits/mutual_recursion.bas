SUB Ping(n)
  CALL Pong(n + 1)
END SUB
SUB Pong(n)
  CALL Ping(n + 1)
END SUB
CALL Ping(0)
