TALK "fine"
TALK "never closed
TALK "fine again"
