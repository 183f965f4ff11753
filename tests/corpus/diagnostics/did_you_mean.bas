' A misspelt keyword gets the nearest known one.
TALKK "hello"
