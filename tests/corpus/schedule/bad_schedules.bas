SET SCHEDULE "61 * * * *"
SET SCHEDULE "0 9 * *"
SET SCHEDULE "every full moon"
SET SCHEDULE "every 90 minutes"
SET SCHEDULE "at 25:00"
SET SCHEDULE "0 0 31 2 *"
SET SCHEDULE "${when}"
SET SCHEDULE when
TALK "never runs"
