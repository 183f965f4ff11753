who = "manager@company.com"
bot_name = "classifier"
ORCHESTRATE WORKFLOW "wf-" & "expr"
  STEP 1: BOT bot_name "task " & 1
  STEP 2: HUMAN APPROVAL FROM who
    TIMEOUT 60 * 30
    ON TIMEOUT: ESCALATE TO "director@" & "company.com"
END WORKFLOW
