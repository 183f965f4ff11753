' Event handlers of the support bot: they are registered when the package loads and
' each runs as its own execution with `event` set to { name, payload, source, at }.

ON EVENT "ticket_escalated" DO
    ticket = event.payload
    PRINT "Ticket ${ticket.id} escalated to ${ticket.assignee}"
    SET BOT MEMORY "last_escalation", ticket
    escalations = GET BOT MEMORY("escalation_count") + 1
    SET BOT MEMORY "escalation_count", escalations
    IF ticket.priority = "high" THEN
        PUBLISH EVENT "support_alert" WITH { ticket: ticket.id, reason: "high priority escalation" }
    END IF
END ON

ON EVENT "workflow_completed" DO
    ' The customer-support workflow shares how the case was resolved with this bot.
    BOT SYNC MEMORY FROM "customer-support-workflow"
    ' Other workflows may publish this event too; only ours carries a resolution.
    done = event.payload
    IF NOT ISNULL(done.resolution) THEN
        PRINT "Workflow ${done.workflow} finished: ${done.resolution}"
        SET BOT MEMORY "last_resolution", done.resolution
        SET BOT MEMORY "resolved_count", GET BOT MEMORY("resolved_count") + 1
    END IF
END ON
