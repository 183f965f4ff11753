OrderAmount = 150
TALK orderamount
TALK ORDERAMOUNT + 1
orderAMOUNT = 7
TALK OrderAmount
FUNCTION Twice(N)
  RETURN n * 2
END FUNCTION
TALK twice(4) + TWICE(1)
customer = { Name: "Ann", orderId: 12 }
TALK customer.name & " " & CUSTOMER.NAME & " " & customer.OrderID
