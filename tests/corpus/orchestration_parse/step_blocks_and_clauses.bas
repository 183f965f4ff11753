orchestrate workflow "lower-case keywords"
  step intake:
    TALK "collecting"
    x = 1
  ' a comment between a step and its clause lines is fine
  STEP fetch: BOT "fetcher" "get data"
    RETRY 5 BACKOFF 2
  STEP 3: BOT "x" "y"
    RETRY
  STEP review: HUMAN APPROVAL FROM "boss@example.com" TIMEOUT 60 MESSAGE "Please look"
  STEP branches: PARALLEL
    BRANCH left:
      BOT "l" "one"
      TALK "more in left"
    BRANCH right:
      BOT "r" "two"
  END PARALLEL
end workflow
