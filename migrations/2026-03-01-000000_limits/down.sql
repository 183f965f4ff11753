DROP TABLE paused_bots;
DROP INDEX event_deliveries_by_execution;
ALTER TABLE workflow_events DROP COLUMN chain;
