SET CONTEXT "topic", "billing"
TALK "context set"
