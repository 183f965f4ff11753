' inventory-updater / "update stock": puts the returned item back into stock. The WAIT
' (a durable timer) makes this branch overlap the refund branch of the PARALLEL step.
DESCRIPTION "Returns the item of a refunded order to stock."

WAIT 1
stock = GET BOT MEMORY("returned_items")
IF ISNULL(stock) THEN stock = 0
stock = stock + 1
SET BOT MEMORY "returned_items", stock

SET BOT MEMORY "done:" + task + ":" + workflow_id, TRUE
PUBLISH EVENT "task_done" WITH { bot: "inventory-updater", task: task, workflow: workflow_id }
SET BOT MEMORY "runs", GET BOT MEMORY("runs") + 1

RETURN { restocked: 1, returned_items: stock }
