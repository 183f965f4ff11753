age = "abc"
IF age > 18 THEN TALK "adult"
