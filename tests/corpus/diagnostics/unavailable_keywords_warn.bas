' These General Bots keywords parse: `check` warns, and running one fails the script.
answer = LLM "Summarise this"
rows = FIND "customers.xlsx", "city=Rio"
SAVE "orders.xlsx", rows
SEND EMAIL "a@b.com", "Subject", "Body"
USE KB "manual"
USE TOOL "lookup"
