PRINT "this goes to the log, not to the user"
TALK "only this is shown"
