-- Waits by event name without GIN's pending list. With fastupdate (the default) new
-- entries go to a pending list that every search scans in full: with 10,000 workflows
-- waiting for events, each publish's lookup of its waiters scanned them all (0.75 ms
-- against 0.01 ms, measured), while a wait is inserted and deleted once each. Entries
-- already pending move into the index at the next vacuum.
ALTER INDEX event_waits_by_name SET (fastupdate = off);

-- Runnable executions without a lease are claimed oldest first (by when they became
-- runnable): in an arbitrary order, a backlog of woken workflows (a storm of events
-- with no free run slot on the publisher) left some waiting while later ones ran, up to
-- the whole storm's length (p99 17 s for 10,000 wake-ups).
DROP INDEX executions_runnable;
CREATE INDEX executions_runnable ON workflow_executions (lease_until NULLS FIRST, updated_at) WHERE status = 'running';
