' Item 7: Rhai forms General Bots passes through.
order = #{ id: 7, "status": "open", items: [1, 2] }
IF order.status != "closed" && !(order.id == 8) THEN
  TALK "open " & order.id
END IF
IF order.id > 9 || order.items.len() == 2 THEN TALK "two items"
TALK order.id > 5 ? "big" : "small"
missing = NULL
TALK missing ?? "fallback"
TALK order?.customer?.name ?? "no customer"
TALK "Ana".to_upper() & " " & "  x  ".trim() & " " & "abc".contains("b")
TALK 7 % 3
list = [1, 2]
list.push(3)
TALK list.len() & " " & JOIN(list, "-")
