' TIMEOUT with a name never set: check warns (the run would fail, not wait forever).
ORCHESTRATE WORKFLOW "review"
  STEP 1: HUMAN APPROVAL FROM "boss@example.com"
    TIMEOUT abc
END WORKFLOW
