' A STEP outside a workflow just runs its statement; check says it is a step only in a workflow.
STEP 1: TALK "step one"
STEP two:
  TALK "step two"
