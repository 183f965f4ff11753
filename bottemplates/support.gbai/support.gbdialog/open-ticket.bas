' A tool-style script: the PARAM lines declare its inputs for callers (LLM tools,
' BOT delegation), DESCRIPTION says what it does.
PARAM customer AS STRING LIKE "Maria Silva" DESCRIPTION "Name of the customer"
PARAM email AS EMAIL LIKE "maria@example.com" DESCRIPTION "Where to send updates"
PARAM subject AS STRING LIKE "Damaged parcel" DESCRIPTION "One line about the problem"
PARAM priority AS STRING LIKE "normal" DESCRIPTION "low, normal or high" OPTIONAL

DESCRIPTION "Opens a support ticket and tells the customer its number."

IF ISNULL(priority) OR priority = "" THEN priority = "normal"

tickets = GET BOT MEMORY("ticket_seq")
IF ISNULL(tickets) THEN tickets = 1000
tickets = tickets + 1
SET BOT MEMORY "ticket_seq", tickets

ticket = { id: tickets, customer: customer, email: email, subject: subject, priority: LCASE(priority), opened: NOW() }
SET BOT MEMORY "ticket:" + tickets, ticket

IF ticket.priority = "high" THEN
    PUBLISH EVENT "ticket_escalated" WITH { id: tickets, assignee: "manager@company.com", priority: "high" }
END IF

TALK "Ticket #${tickets} opened for ${customer}: ${subject}"
RETURN ticket
