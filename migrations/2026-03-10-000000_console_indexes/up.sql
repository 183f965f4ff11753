-- The lists of the console and of GET /api/workflows: top-level workflows newest first
-- (by id, UUID v7) with a status or a bot filter, a page at a time, fast at millions of
-- executions. Partial: only workflow rows carry them, so the children, branches,
-- handlers and conversations that make up most rows under delegation cost nothing
-- here. The index they replace covered every kind and ordered by created_at, which
-- the lists do not sort by.
DROP INDEX IF EXISTS executions_by_kind;
CREATE INDEX executions_by_status ON workflow_executions (status, id) WHERE kind = 'workflow';
CREATE INDEX executions_by_bot ON workflow_executions (bot, id) WHERE kind = 'workflow';
