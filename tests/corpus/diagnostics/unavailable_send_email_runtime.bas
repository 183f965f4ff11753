TALK "before"
SEND EMAIL "a@b.com", "Subject", "Body"
