' Content moderation: a post is classified first (classifier). Clean posts are
' published and posts with forbidden words removed at once; anything in between goes
' to the moderators, and a post nobody reviews in time is removed.
'
' Input (all optional):
'   content         the text of the post
'   author          who wrote it
'   review_timeout  seconds the moderators have (3600)
'
' Start it:
'   POST /api/workflows {"bot": "content-moderation", "script": "start",
'     "input": {"content": "Free offer, click http://example.com", "author": "sam"}}
' The result is {decision: "published" | "removed", decided_by, verdict, flags}; the
' decision is published as content_moderated and kept in bot memory under
' decision:<workflow id>.

IF ISNULL(content) THEN content = ""
IF ISNULL(author) THEN author = "anonymous"
IF ISNULL(review_timeout) THEN review_timeout = 3600

ORCHESTRATE WORKFLOW "content-moderation"
  ' The classifier gives back verdict ("allow", "review" or "block") and flags.
  STEP 1: BOT "classifier" "classify content"
  IF verdict = "allow" THEN
    decision = "published"
    decided_by = "classifier"
  ELSEIF verdict = "block" THEN
    decision = "removed"
    decided_by = "classifier"
  ELSE
    flagged = JOIN(flags, ", ")
    STEP 2: HUMAN APPROVAL FROM "moderators@company.com"
      TIMEOUT review_timeout
      ON TIMEOUT: REJECT UNREVIEWED
      MESSAGE "Publish this post by ${author}? It mentions: ${flagged}"
    decision = IIF(approval.status = "approved", "published", "removed")
    decided_by = approval.by
  END IF

  SET BOT MEMORY "decision:" + workflow_id, { author: author, decision: decision,
                                              decided_by: decided_by, flags: flags }
  STEP 3: PUBLISH EVENT "content_moderated" WITH { workflow: workflow_id, author: author,
                                                 decision: decision, decided_by: decided_by }
  RETURN { decision: decision, decided_by: decided_by, verdict: verdict, flags: flags,
           review: step2 }
END WORKFLOW
