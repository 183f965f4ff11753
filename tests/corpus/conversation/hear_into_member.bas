HEAR order.qty AS INTEGER
HEAR order.note
TALK TOJSON(order)
