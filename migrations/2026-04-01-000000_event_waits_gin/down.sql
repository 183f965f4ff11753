ALTER INDEX event_waits_by_name RESET (fastupdate);
