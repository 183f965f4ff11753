' classifier / "analyze complaint": sorts the complaint text into a category and a
' priority. Its RETURN map becomes workflow variables (category, priority).
PARAM complaint AS STRING LIKE "My parcel arrived broken" DESCRIPTION "The customer's complaint"
DESCRIPTION "Classifies a customer complaint by category and priority."

text = LCASE(complaint)
category = "general"
priority = "normal"

IF INSTR(text, "refund") > 0 OR INSTR(text, "money back") > 0 THEN
    category = "refund"
ELSEIF INSTR(text, "late") > 0 OR INSTR(text, "delivery") > 0 THEN
    category = "delivery"
ELSEIF INSTR(text, "invoice") > 0 OR INSTR(text, "charge") > 0 THEN
    category = "billing"
END IF

FOR EACH word IN ["damaged", "broken", "urgent", "angry", "never"]
    IF INSTR(text, word) > 0 THEN
        priority = "high"
        EXIT FOR
    END IF
NEXT word

SET BOT MEMORY "done:" + task + ":" + workflow_id, TRUE
PUBLISH EVENT "task_done" WITH { bot: "classifier", task: task, workflow: workflow_id }
SET BOT MEMORY "runs", GET BOT MEMORY("runs") + 1

RETURN { category: category, priority: priority }
