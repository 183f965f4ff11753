' A STEP outside a workflow just runs its statement.
STEP 1: TALK "step one"
STEP two:
  TALK "step two"
