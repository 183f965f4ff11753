ALTER TABLE event_waits DROP COLUMN deliver;
