' Item 6: TABLE definitions parse into the bot's schema (the server creates them when the package loads).
TABLE customers
    id GUID KEY
    name STRING(100)
    email STRING(255)
    balance NUMBER(10,2) DEFAULT 0
    created DATETIME
END TABLE

TABLE orders ON maindb
    FIELD id AS INTEGER KEY
    customer_id GUID REFERENCES customers
    total DECIMAL(10, 2)
END TABLE
TALK "tables declared"
