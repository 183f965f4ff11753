-- Base tables: bots, content-addressed script sources, bot memory.

CREATE TABLE bots (
    name TEXT PRIMARY KEY,
    loaded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every version of every script, by the SHA-256 of its text. Executions point at the
-- version they started on (version pinning).
CREATE TABLE scripts (
    hash TEXT PRIMARY KEY,
    bot TEXT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX scripts_by_bot_name ON scripts (bot, name, created_at DESC);

-- Versions order writes to memory across bots (BOT SYNC MEMORY compares them).
CREATE SEQUENCE memory_versions;

CREATE TABLE bot_memories (
    bot TEXT NOT NULL,
    key TEXT NOT NULL,
    value JSONB NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (bot, key)
);
