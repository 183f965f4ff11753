TALK "publishing"
PUBLISH EVENT "order_paid" WITH { id: 7 }
