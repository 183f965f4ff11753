' Lead qualification: a new lead is scored (classifier), then routed by its score. A
' hot lead (70 or more) is shared with the sales bot, which assigns it an owner; a warm
' one (40 or more) gets a follow-up check-in after a while; a cold one is only recorded.
'
' Input (all optional but email):
'   lead_name     the person
'   email         their address (the lead's key in memory)
'   company       their company
'   budget        what they mean to spend
'   employees     how many people their company has
'   source        "referral", "website", "event" or other
'   follow_up_in  seconds before a warm lead's follow-up (2, so that a try-out ends
'                 quickly; a real one waits days)
'
' Start it:
'   POST /api/workflows {"bot": "lead-qualification", "script": "start",
'     "input": {"lead_name": "Ana", "email": "ana@acme.example", "company": "Acme",
'               "budget": 20000, "employees": 300, "source": "referral"}}
' The result is {route: "sales" | "nurture" | "disqualified", score, grade, ...}; the
' route is published as lead_routed and the lead kept in bot memory under lead:<email>.

IF ISNULL(lead_name) THEN lead_name = "unknown"
IF ISNULL(email) THEN email = "unknown@example.com"
IF ISNULL(company) THEN company = ""
IF ISNULL(follow_up_in) THEN follow_up_in = 2

ORCHESTRATE WORKFLOW "lead-qualification"
  ' The classifier gives back score (0-100), grade and reasons.
  STEP 1: BOT "classifier" "score lead"
  SET BOT MEMORY "lead:" + email, { name: lead_name, email: email, company: company,
                                    score: score, grade: grade, reasons: reasons }
  owner = NULL
  IF score >= 70 THEN
    route = "sales"
    ' The sales bot reads the lead from shared memory (BOT SYNC MEMORY).
    STEP 2: BOT SHARE MEMORY "lead:" + email WITH "sales"
    STEP 3: BOT "sales" "assign lead"
  ELSEIF score >= 40 THEN
    route = "nurture"
    STEP 4: DELAY follow_up_in
    STEP 5: BOT "follow-up" "schedule check-in"
  ELSE
    route = "disqualified"
  END IF

  STEP 6: PUBLISH EVENT "lead_routed" WITH { email: email, score: score, grade: grade,
                                           route: route, owner: owner }
  RETURN { route: route, score: score, grade: grade, reasons: reasons, owner: owner,
           follow_up: step5 }
END WORKFLOW
