' Item 11: orchestration forms real workflows use.
ORCHESTRATE WORKFLOW "order-review"
  STEP 1: BOT "classifier" "classify order"
    RETRY 3 TIMES WITH BACKOFF 2 SECONDS
  IF order_amount > 1000 THEN
    STEP 2: HUMAN APPROVAL FROM "manager@example.com"
      TIMEOUT 3600
      ON TIMEOUT: REJECT ORDER
  ELSE
    STEP 2: HUMAN APPROVAL FROM "clerk@example.com"
      TIMEOUT 600
      ON TIMEOUT: APPROVE WITH WARNING
  END IF
  STEP 3: BOT "notifier" "tell the customer"
    RETRY 2 DELAY 5
END WORKFLOW
