DROP INDEX IF EXISTS executions_by_bot;
DROP INDEX IF EXISTS executions_by_status;
CREATE INDEX executions_by_kind ON workflow_executions (kind, status, bot, created_at DESC);
