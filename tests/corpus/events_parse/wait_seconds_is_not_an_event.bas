WAIT 0
TALK "plain WAIT still sleeps"
