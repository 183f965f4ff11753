' Support bot: the entry dialog of a customer-support desk in General Bots style.
REM Greets the customer, offers a menu and remembers how many chats it has had.

' Answers from the FAQ knowledge base and the ticket tool need a General Bots LLM host.
' This server does not provide them (check warns), so they are only switched on where
' the bot's memory says such a host is there; elsewhere the menu below does the work.
IF GET BOT MEMORY("llm_enabled") THEN
    USE KB "faq"
    USE TOOL "ticket"
END IF

FUNCTION Greeting(name)
    hour = VAL(FORMAT(NOW(), "HH"))
    IF hour < 12 THEN
        RETURN "Good morning, " + name + "!"
    ELSEIF hour < 18 THEN
        RETURN "Good afternoon, " + name + "!"
    ELSE
        RETURN "Good evening, " + name + "!"
    END IF
END FUNCTION

' Count conversations in the bot's persistent memory.
chats = GET BOT MEMORY("chat_count")
IF ISNULL(chats) THEN chats = 0
chats = chats + 1
SET BOT MEMORY "chat_count", chats

company = GET BOT MEMORY("company_name")
IF ISNULL(company) THEN company = "General Bots"

TALK "Welcome to ${company} support. What is your name?"
HEAR customer AS STRING
TALK Greeting(customer)

TALK "How can I help you today?"
TALK "1 - Track an order"
TALK "2 - Ask for a refund"
TALK "3 - Talk to a person"
TALK "4 - Nothing, thanks"
HEAR choice AS INTEGER

SELECT CASE choice
    CASE 1
        TALK "Please type your order number."
        HEAR order_number AS INTEGER
        SET CONTEXT "order_number", order_number
        TALK "Order ${order_number} is on its way."
    CASE 2
        TALK "What is the order amount?"
        HEAR amount AS NUMBER
        TALK "And your e-mail, so that we can keep you posted?"
        HEAR email AS EMAIL
        IF amount > 100 THEN
            TALK "Refunds over 100 need a manager's approval; we will write to ${email}."
        ELSE
            TALK "Your refund of ${amount} is on its way to ${email}."
        END IF
        SET BOT MEMORY "last_refund_request", { customer: customer, amount: amount, email: email }
    CASE 3
        TALK "Is this about an existing ticket? (yes/no)"
        HEAR existing AS BOOLEAN
        IF existing THEN
            TALK "An agent will pick up your ticket shortly."
        ELSE
            TALK "Please describe the problem; an agent will answer soon."
            HEAR problem
            SET CONTEXT "problem", problem
        END IF
    CASE ELSE
        TALK "Thank you for contacting us, ${customer}. Goodbye!"
END SELECT

TALK "This was conversation number ${chats} of ${company} support."
