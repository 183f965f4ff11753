TALK "ends with a backslash\
