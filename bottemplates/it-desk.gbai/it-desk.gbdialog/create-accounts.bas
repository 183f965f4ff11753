' it-desk / "create accounts": opens a new employee's accounts. The employee's profile
' comes from the bot that shared it with this one (BOT SYNC MEMORY), so the IT desk
' still knows the employee in later conversations.
PARAM email AS EMAIL LIKE "ana.lima@company.com" DESCRIPTION "The new employee's address"
DESCRIPTION "Creates the directory, mail and chat accounts of a new employee."

BOT SYNC MEMORY
hire = GET BOT MEMORY("new_hire:" + email)
IF ISNULL(hire) THEN THROW "no profile was shared with the IT desk for " + email

login = LCASE(LEFT(email, INSTR(email, "@") - 1))
accounts = ["directory", "mail", "chat"]
IF hire.role = "engineer" THEN PUSH accounts, "source code"
SET BOT MEMORY "account:" + login, { name: hire.name, role: hire.role, accounts: accounts }

SET BOT MEMORY "done:" + task + ":" + workflow_id, TRUE
PUBLISH EVENT "task_done" WITH { bot: "it-desk", task: task, workflow: workflow_id }
SET BOT MEMORY "runs", GET BOT MEMORY("runs") + 1

RETURN { login: login, accounts: accounts }
