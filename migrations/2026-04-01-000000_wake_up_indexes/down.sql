ALTER INDEX event_waits_by_name RESET (fastupdate);
DROP INDEX executions_runnable;
CREATE INDEX executions_runnable ON workflow_executions (lease_until NULLS FIRST) WHERE status = 'running';
