TALK "a"
RETURN
TALK "never"
