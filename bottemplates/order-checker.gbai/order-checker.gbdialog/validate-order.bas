' order-checker / "validate order": confirms the order and gives back its amount. The
' amount is the workflow's input order_amount when given, else 50; an order of no
' amount (0 or less) is not valid.
PARAM order_amount AS NUMBER LIKE "150" DESCRIPTION "Amount of the order" OPTIONAL
DESCRIPTION "Validates the order of a complaint and returns its amount."

amount = order_amount
IF ISNULL(amount) THEN amount = 50

SET BOT MEMORY "done:" + task + ":" + workflow_id, TRUE
PUBLISH EVENT "task_done" WITH { bot: "order-checker", task: task, workflow: workflow_id }
SET BOT MEMORY "runs", GET BOT MEMORY("runs") + 1

RETURN { order_amount: amount, order_valid: amount > 0 }
