-- A wait for one event name without a WHERE filter is delivered at the publish: the
-- publisher that ends it writes the event into the waiter's journal under the wait's
-- key, in the statement that makes the waiter runnable, so the woken run reads no
-- events and removes no wait (db/events.rs, db/leases.rs).
ALTER TABLE event_waits ADD COLUMN deliver BOOLEAN NOT NULL DEFAULT FALSE;
