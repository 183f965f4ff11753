TALK "hello"
SET SCHEDULE "0 9 * * *"
SET SCHEDULE "0 10 * * *"
