' The customer-support workflow of docs/language.md, made to run end to end on this server.
'
' Start it as a workflow (POST /api/workflows {bot: "customer-support-workflow",
' script: "start", input: {order_amount: 150, complaint: "…"}}) or by opening a
' conversation with this bot, which starts the workflow and reports its id.
' Inputs (all optional): complaint (text), order_amount (number; 50 when absent).
' An order over 100 needs the manager's approval; a rejected one gets no refund.

IF ISNULL(complaint) THEN complaint = "My order arrived damaged and I want a refund."

ORCHESTRATE WORKFLOW "customer-support"
  STEP 1: BOT "classifier" "analyze complaint"
  ' order-checker gives back order_amount and order_valid as workflow variables.
  STEP 2: BOT "order-checker" "validate order"
  IF order_amount > 100 THEN
    STEP 3: HUMAN APPROVAL FROM "manager@company.com"
      TIMEOUT 1800
      ON TIMEOUT: ESCALATE TO "director@company.com"
    IF approval.status <> "approved" THEN
      resolution_method = "refund " + approval.status
      SET BOT MEMORY "resolution_method", resolution_method
      BOT SHARE MEMORY "resolution_method" WITH "support"
      PUBLISH EVENT "workflow_completed" WITH { workflow: workflow_id,
                                                resolution: resolution_method, refunded: FALSE }
      RETURN { status: "not refunded", reason: "approval " + approval.status,
               refunded: FALSE, approval: approval,
               category: category, priority: priority, order_amount: order_amount }
    END IF
  END IF
  STEP 4: PARALLEL
    BRANCH A: BOT "refund-processor" "process refund"
    BRANCH B: BOT "inventory-updater" "update stock"
  END PARALLEL
  ' A real deployment waits a day (DELAY 86400) before the check-in; one second keeps
  ' the example quick.
  STEP 5: BOT "follow-up" "schedule check-in"
    DELAY 1
  resolution_method = "refund"
  SET BOT MEMORY "resolution_method", resolution_method
  BOT SHARE MEMORY "resolution_method" WITH "support"
  PUBLISH EVENT "workflow_completed" WITH { workflow: workflow_id,
                                            resolution: resolution_method, refunded: TRUE }
  RETURN { status: "resolved", refunded: TRUE, approval: approval,
           category: category, priority: priority, order_amount: order_amount,
           branches: step4, follow_up: step5 }
END WORKFLOW

' Reached only when this script runs as a conversation: the workflow runs on its own.
TALK "Your case is being handled as workflow ${workflow_id}."
