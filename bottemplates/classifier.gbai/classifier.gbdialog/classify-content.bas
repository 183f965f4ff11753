' classifier / "classify content": a first look at a post before it is published. Words
' that are never allowed block it, words that often go with spam send it to a person,
' anything else is allowed. Its RETURN map becomes workflow variables (verdict, flags).
PARAM content AS STRING LIKE "Great article, thanks!" DESCRIPTION "The text of the post"
DESCRIPTION "Classifies user content as allow, review or block, with the words that decided it."

text = LCASE(content)
flags = []
verdict = "allow"

FOR EACH word IN ["scam", "hate", "kill"]
    IF INSTR(text, word) > 0 THEN
        PUSH flags, word
        verdict = "block"
    END IF
NEXT word

IF verdict = "allow" THEN
    FOR EACH word IN ["http", "free", "offer", "winner", "!!!"]
        IF INSTR(text, word) > 0 THEN
            PUSH flags, word
            verdict = "review"
        END IF
    NEXT word
END IF

SET BOT MEMORY "done:" + task + ":" + workflow_id, TRUE
PUBLISH EVENT "task_done" WITH { bot: "classifier", task: task, workflow: workflow_id }
SET BOT MEMORY "runs", GET BOT MEMORY("runs") + 1

RETURN { verdict: verdict, flags: flags }
