' Approval chain: a request goes up a chain of approvers. The team lead decides first;
' a lead who does not answer in time passes it to the department head. A request over
' 1000 then needs finance too, which passes it to the CFO, and one nobody answers is
' rejected. The first "no" ends the chain.
'
' Input (all optional):
'   request         what is asked for, in words
'   requester       who asks (an address)
'   amount          what it costs (0 when absent)
'   review_timeout  seconds each approver has before the request moves on (3600)
'
' Start it:
'   POST /api/workflows {"bot": "approval-chain", "script": "start",
'     "input": {"request": "A second screen", "requester": "ana@company.com", "amount": 1400}}
' Each approver gets an approval request (GET /api/approvals?status=pending; the
' decision token is in the approval_requested event). The result is
' {status: "approved" | "rejected", reason, decided_by, ...}; the decision is also
' published as request_decided and kept in bot memory under request:<workflow id>.

IF ISNULL(request) THEN request = "an unnamed request"
IF ISNULL(requester) THEN requester = "someone@company.com"
IF ISNULL(amount) THEN amount = 0
IF ISNULL(review_timeout) THEN review_timeout = 3600

ORCHESTRATE WORKFLOW "approval-chain"
  STEP 1: HUMAN APPROVAL FROM "team-lead@company.com"
    TIMEOUT review_timeout
    ON TIMEOUT: ESCALATE TO "department-head@company.com"
    MESSAGE "${requester} asks for ${request} (${amount})"
  outcome = approval.status
  decided_by = [NVL(approval.by, "timeout")]

  IF outcome = "approved" AND amount > 1000 THEN
    STEP 2: HUMAN APPROVAL FROM "finance@company.com"
      TIMEOUT review_timeout
      ON TIMEOUT: ESCALATE TO "cfo@company.com"
      ON TIMEOUT: REJECT UNANSWERED
      MESSAGE "${requester} asks for ${request}: ${amount} is over the team budget"
    outcome = approval.status
    PUSH decided_by, NVL(approval.by, "timeout")
  END IF

  ' "timeout" (nobody answered) ends the chain as a "no", like a rejection.
  status = IIF(outcome = "approved", "approved", "rejected")
  decision = { request: request, requester: requester, amount: amount, status: status,
               reason: outcome, decided_by: decided_by, comment: approval.comment }
  SET BOT MEMORY "request:" + workflow_id, decision
  STEP 3: PUBLISH EVENT "request_decided" WITH { workflow: workflow_id, status: status,
                                               reason: outcome, decided_by: decided_by }
  RETURN { status: status, reason: outcome, decided_by: decided_by, request: request,
           amount: amount, lead: step1, finance: step2 }
END WORKFLOW
