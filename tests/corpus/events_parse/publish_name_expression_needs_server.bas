kind = "paid"
PUBLISH EVENT "order_" & kind
