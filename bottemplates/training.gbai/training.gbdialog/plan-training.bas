' training / "plan training": enrols a new employee in the courses of their role and
' names a mentor.
PARAM employee AS STRING LIKE "Ana Lima" DESCRIPTION "The new employee's name"
PARAM role AS STRING LIKE "engineer" DESCRIPTION "The new employee's role" OPTIONAL
DESCRIPTION "Plans a new employee's first courses and names a mentor."

courses = ["security basics", "company tour"]
IF role = "engineer" THEN PUSH courses, "codebase walkthrough"
enrolled = GET BOT MEMORY("enrolled")
IF ISNULL(enrolled) THEN enrolled = 0
SET BOT MEMORY "enrolled", enrolled + 1

SET BOT MEMORY "done:" + task + ":" + workflow_id, TRUE
PUBLISH EVENT "task_done" WITH { bot: "training", task: task, workflow: workflow_id }
SET BOT MEMORY "runs", GET BOT MEMORY("runs") + 1

RETURN { courses: courses, mentor: "mentors@company.com" }
