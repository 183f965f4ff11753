ORCHESTRATE WORKFLOW "runs to the end of the file"
  STEP 1: BOT "a" "first"
  STEP 2: BOT "b" "second"
