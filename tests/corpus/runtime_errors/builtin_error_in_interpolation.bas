TALK "value: ${MID("abc", 0)}"
