TALK "waiting"
WAIT FOR EVENT "approval_received" OR "approval_denied" WHERE event.payload.id = 7
  TIMEOUT 30
  ON TIMEOUT: ESCALATE TO "boss@example.com"
TALK "never"
