' Order refund: the refund of docs/language.md's customer-support example on its own.
' The order is validated (order-checker); a refund above the approval limit needs the
' manager's approval (the director's when the manager does not answer in time; refused
' when nobody does); then the money goes back (refund-processor) while the item goes
' back into stock (inventory-updater), in parallel.
'
' Input (all optional):
'   order_id        the order (the workflow's id when absent)
'   order_amount    the amount to refund (order-checker takes 50 when absent; 0 or less
'                   is not a valid order)
'   approval_limit  refunds above it need an approval (100)
'   review_timeout  seconds each approver has (1800)
'
' Start it:
'   POST /api/workflows {"bot": "order-refund", "script": "start",
'     "input": {"order_id": "A-1001", "order_amount": 150}}
' The result is {status: "refunded" | "refused", reason, ...}; a refund publishes
' order_refunded, a refusal refund_refused, and the refund is kept in bot memory under
' refund:<order id>.

IF ISNULL(order_id) THEN order_id = workflow_id
IF ISNULL(approval_limit) THEN approval_limit = 100
IF ISNULL(review_timeout) THEN review_timeout = 1800

ORCHESTRATE WORKFLOW "order-refund"
  ' order-checker gives back order_amount and order_valid as workflow variables.
  STEP 1: BOT "order-checker" "validate order"
  IF NOT order_valid THEN
    PUBLISH EVENT "refund_refused" WITH { order: order_id, reason: "invalid order" }
    RETURN { status: "refused", reason: "invalid order", order: order_id,
             order_amount: order_amount }
  END IF

  IF order_amount > approval_limit THEN
    STEP 2: HUMAN APPROVAL FROM "manager@company.com"
      TIMEOUT review_timeout
      ON TIMEOUT: ESCALATE TO "director@company.com"
      ON TIMEOUT: REJECT UNANSWERED
      MESSAGE "Refund ${order_amount} for order ${order_id}?"
    IF approval.status <> "approved" THEN
      PUBLISH EVENT "refund_refused" WITH { order: order_id, reason: "approval " + approval.status }
      RETURN { status: "refused", reason: "approval " + approval.status, order: order_id,
               order_amount: order_amount, approval: approval }
    END IF
  END IF

  STEP 3: PARALLEL
    BRANCH refund: BOT "refund-processor" "process refund"
    BRANCH restock: BOT "inventory-updater" "update stock"
  END PARALLEL
  SET BOT MEMORY "refund:" + order_id, { amount: step3.refund.refunded,
                                         method: step3.refund.method, approval: approval }
  STEP 4: PUBLISH EVENT "order_refunded" WITH { order: order_id, amount: order_amount,
                                              workflow: workflow_id }
  RETURN { status: "refunded", order: order_id, order_amount: order_amount,
           refund: step3.refund, restock: step3.restock, approval: approval }
END WORKFLOW
