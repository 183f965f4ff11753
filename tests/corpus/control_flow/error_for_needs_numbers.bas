FOR i = "a" TO 3
NEXT
