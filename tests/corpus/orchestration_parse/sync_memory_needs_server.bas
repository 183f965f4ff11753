TALK "syncing"
BOT SYNC MEMORY FROM "other-bot"
