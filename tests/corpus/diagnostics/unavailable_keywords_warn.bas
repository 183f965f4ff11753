' These General Bots keywords parse: `check` warns, and running one fails the script.
answer = LLM "Summarise this"
rows = SEARCH "customers.xlsx", "Rio"
EXPORT "orders.xlsx", rows
SEND SMS "+5511999", "Body"
USE KB "manual"
USE TOOL "lookup"
