' Employee onboarding: the manager confirms the new hire (HR decides when the manager
' does not answer in time); the employee's profile is shared with the IT desk; accounts,
' equipment and training are set up in parallel; on the first day a check-in with the
' new employee is scheduled.
'
' Input (all optional):
'   employee        the new employee's name
'   email           their company address (also their key in memory)
'   role            "engineer" or another role (it decides accounts, equipment, courses)
'   review_timeout  seconds the manager has before HR is asked (86400)
'   first_day_in    seconds until the first day (2, so that a try-out ends quickly; a
'                   real start date is days away)
'
' Start it:
'   POST /api/workflows {"bot": "employee-onboarding", "script": "start",
'     "input": {"employee": "Ana Lima", "email": "ana.lima@company.com", "role": "engineer"}}
' The result is {status: "onboarded" | "cancelled", ...}; onboarding publishes
' employee_onboarded (or onboarding_cancelled) and keeps the employee in bot memory
' under employee:<email>.

IF ISNULL(employee) THEN employee = "New Hire"
IF ISNULL(email) THEN email = "new.hire@company.com"
IF ISNULL(role) THEN role = "engineer"
IF ISNULL(review_timeout) THEN review_timeout = 86400
IF ISNULL(first_day_in) THEN first_day_in = 2

ORCHESTRATE WORKFLOW "employee-onboarding"
  STEP 1: HUMAN APPROVAL FROM "manager@company.com"
    TIMEOUT review_timeout
    ON TIMEOUT: ESCALATE TO "hr@company.com"
    MESSAGE "Start the onboarding of ${employee} (${role}, ${email})?"
  IF approval.status <> "approved" THEN
    STEP 2: PUBLISH EVENT "onboarding_cancelled" WITH { employee: employee, email: email,
                                                      reason: "approval " + approval.status }
    RETURN { status: "cancelled", reason: "approval " + approval.status, employee: employee }
  END IF

  ' The IT desk reads the profile from shared memory (BOT SYNC MEMORY), now and later.
  SET BOT MEMORY "new_hire:" + email, { name: employee, email: email, role: role,
                                        approved_by: approval.by }
  STEP 3: BOT SHARE MEMORY "new_hire:" + email WITH "it-desk"
  STEP 4: PARALLEL
    BRANCH accounts: BOT "it-desk" "create accounts"
    BRANCH equipment: BOT "it-desk" "order equipment"
    BRANCH training: BOT "training" "plan training"
  END PARALLEL

  ' Until the first day.
  STEP 5: DELAY first_day_in
  STEP 6: BOT "follow-up" "schedule check-in"

  SET BOT MEMORY "employee:" + email, { name: employee, role: role,
                                        login: step4.accounts.login,
                                        equipment: step4.equipment.equipment,
                                        courses: step4.training.courses,
                                        mentor: step4.training.mentor }
  PUBLISH EVENT "employee_onboarded" WITH { employee: employee, email: email,
                                           login: step4.accounts.login }
  RETURN { status: "onboarded", employee: employee, login: step4.accounts.login,
           accounts: step4.accounts.accounts, equipment: step4.equipment.equipment,
           courses: step4.training.courses, mentor: step4.training.mentor,
           check_in: step6.check_in }
END WORKFLOW
