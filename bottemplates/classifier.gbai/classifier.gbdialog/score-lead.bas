' classifier / "score lead": scores a sales lead from 0 to 100 by its budget, the size of
' its company and where it came from, and grades it (hot from 70, warm from 40, else
' cold). Its RETURN map becomes workflow variables (score, grade, reasons).
PARAM email AS EMAIL LIKE "ana@acme.example" DESCRIPTION "The lead's address"
PARAM budget AS NUMBER LIKE "12000" DESCRIPTION "What the lead means to spend" OPTIONAL
PARAM employees AS INTEGER LIKE "250" DESCRIPTION "People at the lead's company" OPTIONAL
PARAM source AS STRING LIKE "referral" DESCRIPTION "referral, website, event or other" OPTIONAL
DESCRIPTION "Scores and grades a sales lead."

score = 0
reasons = []

money = NVL(budget, 0)
IF money >= 10000 THEN
    score = score + 40
    PUSH reasons, "budget 10000 or more"
ELSEIF money >= 1000 THEN
    score = score + 20
    PUSH reasons, "budget 1000 or more"
END IF

people = NVL(employees, 0)
IF people >= 100 THEN
    score = score + 30
    PUSH reasons, "100 people or more"
ELSEIF people >= 10 THEN
    score = score + 15
    PUSH reasons, "10 people or more"
END IF

SELECT CASE LCASE(NVL(source, "other"))
    CASE "referral"
        score = score + 20
        PUSH reasons, "referred"
    CASE "website", "event"
        score = score + 10
        PUSH reasons, "came by " + LCASE(source)
END SELECT

' A personal mailbox is seldom a company buying.
domain = LCASE(MID(NVL(email, ""), INSTR(NVL(email, ""), "@") + 1))
IF CONTAINS(["gmail.com", "hotmail.com", "outlook.com", "yahoo.com"], domain) THEN
    score = score - 10
    PUSH reasons, "personal mailbox"
END IF

score = MAX(0, MIN(100, score))
IF score >= 70 THEN
    grade = "hot"
ELSEIF score >= 40 THEN
    grade = "warm"
ELSE
    grade = "cold"
END IF

SET BOT MEMORY "done:" + task + ":" + workflow_id, TRUE
PUBLISH EVENT "task_done" WITH { bot: "classifier", task: task, workflow: workflow_id }
SET BOT MEMORY "runs", GET BOT MEMORY("runs") + 1

RETURN { score: score, grade: grade, reasons: reasons }
