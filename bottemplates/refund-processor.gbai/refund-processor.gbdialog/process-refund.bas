' refund-processor / "process refund": pays the order amount back. The WAIT stands for
' the payment provider's round trip (a durable timer, no thread is held).
DESCRIPTION "Refunds the order amount to the customer."

amount = order_amount
IF ISNULL(amount) THEN amount = 0
WAIT 1

SET BOT MEMORY "done:" + task + ":" + workflow_id, TRUE
PUBLISH EVENT "task_done" WITH { bot: "refund-processor", task: task, workflow: workflow_id }
SET BOT MEMORY "runs", GET BOT MEMORY("runs") + 1

RETURN { refunded: amount, method: "original payment" }
