TALK "before"
SEND SMS "+5511999", "Body"
