SUB Notify(kind)
  TALK "notifying " & kind
  PUBLISH EVENT kind
END SUB
CALL Notify("order_paid")
