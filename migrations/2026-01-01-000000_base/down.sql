DROP TABLE bot_memories;
DROP SEQUENCE memory_versions;
DROP TABLE scripts;
DROP TABLE bots;
