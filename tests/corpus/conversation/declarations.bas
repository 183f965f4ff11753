PARAM name AS STRING LIKE "Ann" DESCRIPTION "the customer's name"
PARAM age AS INTEGER OPTIONAL
DESCRIPTION "Greets a customer"
TALK "declarations do nothing when run"
TALK "[" & name & "]"
