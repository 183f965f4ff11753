TALK "before"
HUMAN APPROVAL FROM "manager@company.com" TIMEOUT 10
