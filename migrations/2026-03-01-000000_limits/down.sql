DROP TABLE paused_bots;
ALTER TABLE workflow_executions DROP COLUMN tree_size;
DROP INDEX event_deliveries_by_execution;
ALTER TABLE workflow_events DROP COLUMN chain;
