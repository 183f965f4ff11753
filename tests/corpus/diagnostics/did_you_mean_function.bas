' A misspelt function gets the nearest built-in.
x = UCAS("a")
