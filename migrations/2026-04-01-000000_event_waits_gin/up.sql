-- Waits by event name without GIN's pending list. With fastupdate (the default) new
-- entries go to a pending list that every search scans in full: with 10,000 workflows
-- waiting for events, each publish's lookup of its waiters scanned them all (0.75 ms
-- against 0.01 ms, measured), while a wait is inserted and deleted once each. Entries
-- already pending move into the index at the next vacuum.
ALTER INDEX event_waits_by_name SET (fastupdate = off);
