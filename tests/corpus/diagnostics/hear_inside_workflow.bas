' HEAR in a workflow: a workflow has no user to answer, so check says so.
ORCHESTRATE WORKFLOW "intake"
  STEP 1: HEAR answer
  x = HEAR
END WORKFLOW
