BOT "helper" "do something"
