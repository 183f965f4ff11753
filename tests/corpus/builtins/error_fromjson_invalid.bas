TALK "before"
x = FROMJSON("{not json")
