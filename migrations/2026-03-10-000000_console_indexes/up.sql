-- The lists of the console and of GET /api/workflows: newest first (by id, UUID v7) with
-- a status or a bot filter, a page at a time, fast at millions of executions. The index
-- they replace ordered by created_at, which the lists do not sort by.
DROP INDEX IF EXISTS executions_by_kind;
CREATE INDEX executions_by_status ON workflow_executions (kind, status, id);
CREATE INDEX executions_by_bot ON workflow_executions (kind, bot, id);
