name = "Ann"
TALK "Hello ${name"
