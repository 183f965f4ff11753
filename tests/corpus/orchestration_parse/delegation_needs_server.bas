TALK "asking"
answer = BOT "helper" "answer a question"
TALK "never"
