HEAR a AS TEXT
HEAR b AS INT
HEAR c AS MONEY
HEAR d AS BOOL
TALK a & "|" & b & "|" & c & "|" & d
