' follow-up / "schedule check-in": plans a call to ask the customer whether the case
' is really closed.
DESCRIPTION "Schedules a check-in with the customer after a resolved complaint."

when = FORMAT(NOW(), "yyyy-MM-dd")

SET BOT MEMORY "done:" + task + ":" + workflow_id, TRUE
PUBLISH EVENT "task_done" WITH { bot: "follow-up", task: task, workflow: workflow_id }
SET BOT MEMORY "runs", GET BOT MEMORY("runs") + 1

RETURN { check_in: "scheduled", planned_on: when }
