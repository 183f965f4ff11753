' Item 4: context and session forms.
SET CONTEXT "topic" AS "billing"
SET CONTEXT "The customer asks about invoices."
SET_CONTEXT "tone" AS "friendly"
SET CONTEXT "channel", "web"
SET "session.language", "pt"
TALK "context set"
SET USER "user-42"
