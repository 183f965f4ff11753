-- Bounds on event cascades and the operator's pause switch.

-- How many handlers led to an event: 0 when published by the API or an execution that
-- is not an ON EVENT handler; a handler of an event of chain c publishes chain c + 1.
ALTER TABLE workflow_events ADD COLUMN chain INT NOT NULL DEFAULT 0;

-- A handler's execution finds the event it runs for.
CREATE INDEX event_deliveries_by_execution ON event_deliveries (execution_id);

-- How many executions a workflow tree has (on its root row): a tree that delegates
-- without end stops at the limit.
ALTER TABLE workflow_executions ADD COLUMN tree_size INT NOT NULL DEFAULT 1;

-- Bots an operator paused: their executions are not claimed and their handlers are not
-- started at once (the rows wait), until the bot is resumed.
CREATE TABLE paused_bots (
    bot TEXT PRIMARY KEY,
    paused_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
