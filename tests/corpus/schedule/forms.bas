' A schedule is a declaration: running the script (here, by hand) runs the rest of it.
SET SCHEDULE "*/2 * * * * *"
TALK "ran; tick is " + IIF(ISNULL(tick), "not set when run by hand", tick)
