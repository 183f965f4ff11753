' Incident escalation: an incident is raised and the on-call levels are paged one after
' the other until someone acknowledges it: primary, then secondary, then the incident
' manager, each given ack_timeout seconds. Once acknowledged, the workflow waits for the
' resolution and publishes incident_closed; if no level acknowledges, it publishes
' incident_unacknowledged and ends.
'
' Input (all optional):
'   title        what is wrong
'   severity     "low", "high", ... ("high")
'   ack_timeout  seconds each on-call level has to acknowledge (300)
'
' Start it:
'   POST /api/workflows {"bot": "incident-escalation", "script": "start",
'     "input": {"title": "Checkout is down", "severity": "high"}}
' The incident's id is the workflow's id. Each page is an incident_paged event
' {incident, level, responder}; acknowledge and resolve by publishing events:
'   POST /api/events {"name": "incident_acknowledged", "payload": {"incident": "<id>", "by": "bob"}}
'   POST /api/events {"name": "incident_resolved", "payload": {"incident": "<id>", "by": "bob",
'     "summary": "rolled back"}}
' Events of other incidents are ignored (WHERE). The incident is kept in bot memory
' under incident:<id>.

IF ISNULL(title) THEN title = "an unnamed incident"
IF ISNULL(severity) THEN severity = "high"
IF ISNULL(ack_timeout) THEN ack_timeout = 300

ORCHESTRATE WORKFLOW "incident-escalation"
  incident = workflow_id
  STEP 1: PUBLISH EVENT "incident_raised" WITH { incident: incident, title: title,
                                               severity: severity }
  on_call = ["oncall-primary@company.com", "oncall-secondary@company.com",
             "incident-manager@company.com"]
  level = 0
  acknowledged_by = NULL
  FOR EACH responder IN on_call
    level = level + 1
    STEP page: PUBLISH EVENT "incident_paged" WITH { incident: incident, level: level,
                                                   responder: responder, title: title }
    STEP ack: WAIT FOR EVENT "incident_acknowledged" WHERE event.payload.incident = incident
      TIMEOUT ack_timeout
    IF NOT ISNULL(event) THEN
      acknowledged_by = NVL(event.payload.by, responder)
      EXIT FOR
    END IF
  NEXT responder

  IF ISNULL(acknowledged_by) THEN
    STEP 2: PUBLISH EVENT "incident_unacknowledged" WITH { incident: incident, title: title,
                                                         levels: level }
    SET BOT MEMORY "incident:" + incident, { title: title, status: "unacknowledged" }
    RETURN { status: "unacknowledged", incident: incident, levels_paged: level }
  END IF

  ' Resolving can take as long as it takes: this wait has no timeout.
  STEP 3: WAIT FOR EVENT "incident_resolved" WHERE event.payload.incident = incident
  resolution = event.payload
  SET BOT MEMORY "incident:" + incident, { title: title, severity: severity,
                                           status: "resolved", acknowledged_by: acknowledged_by,
                                           level: level, resolved_by: resolution.by,
                                           summary: resolution.summary }
  STEP 4: PUBLISH EVENT "incident_closed" WITH { incident: incident, title: title,
                                               acknowledged_by: acknowledged_by,
                                               resolved_by: resolution.by,
                                               summary: resolution.summary }
  RETURN { status: "resolved", incident: incident, acknowledged_by: acknowledged_by,
           level: level, resolved_by: resolution.by, summary: resolution.summary }
END WORKFLOW
