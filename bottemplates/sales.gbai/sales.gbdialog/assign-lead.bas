' sales / "assign lead": takes a qualified lead into the sales pipeline. The lead comes
' from the bot that shared it with this one (BOT SYNC MEMORY), so the sales bot keeps it
' for later; owners take leads in turn.
PARAM email AS EMAIL LIKE "ana@acme.example" DESCRIPTION "The lead's address"
DESCRIPTION "Assigns a qualified lead to a salesperson and opens it in the pipeline."

BOT SYNC MEMORY
lead = GET BOT MEMORY("lead:" + email)
IF ISNULL(lead) THEN THROW "no lead was shared with sales for " + email

owners = ["ana@company.com", "bruno@company.com"]
assigned = GET BOT MEMORY("assigned")
IF ISNULL(assigned) THEN assigned = 0
owner = owners[assigned MOD 2]
SET BOT MEMORY "assigned", assigned + 1
SET BOT MEMORY "pipeline:" + email, { lead: lead, owner: owner, stage: "first call" }

SET BOT MEMORY "done:" + task + ":" + workflow_id, TRUE
PUBLISH EVENT "task_done" WITH { bot: "sales", task: task, workflow: workflow_id }
SET BOT MEMORY "runs", GET BOT MEMORY("runs") + 1

RETURN { owner: owner, stage: "first call" }
