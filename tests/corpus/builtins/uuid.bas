' UUID is unique on each call: only its shape is asserted.
u = UUID()
TALK LEN(u)
TALK MID(u, 9, 1) & MID(u, 14, 1) & MID(u, 19, 1) & MID(u, 24, 1)
TALK LEN(REPLACE(u, "-", ""))
TALK u = LCASE(u)
TALK UUID() <> UUID()
