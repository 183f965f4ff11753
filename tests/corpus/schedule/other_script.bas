' General Bots' form that schedules another script from inside code is not provided.
SET SCHEDULE "0 9 * * *", "report.bas"
TALK "after"
