' Handlers are registered when the package loads; running the file runs only the main body.
ON EVENT "order_paid" DO
  TALK "handler: " & event.payload.id
END ON
on event approval_received do
  TALK "approved"
end on
TALK "main body"
