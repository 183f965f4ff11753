' it-desk / "order equipment": orders what a new employee needs on the first day, by
' role. The WAIT stands for the supplier's confirmation (a durable timer).
PARAM role AS STRING LIKE "engineer" DESCRIPTION "The new employee's role" OPTIONAL
DESCRIPTION "Orders a new employee's equipment."

IF role = "engineer" THEN
    equipment = ["laptop (32 GB)", "second screen", "headset"]
ELSE
    equipment = ["laptop", "headset"]
END IF
WAIT 1

SET BOT MEMORY "done:" + task + ":" + workflow_id, TRUE
PUBLISH EVENT "task_done" WITH { bot: "it-desk", task: task, workflow: workflow_id }
SET BOT MEMORY "runs", GET BOT MEMORY("runs") + 1

RETURN { equipment: equipment, delivery: "before the first day" }
