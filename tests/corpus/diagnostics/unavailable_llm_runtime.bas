TALK "before"
answer = LLM "hello"
TALK "never"
