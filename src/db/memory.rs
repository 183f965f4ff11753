//! Bot memory (`bot_memories`) and cross-bot shared memory (`bot_shared_memory`).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz};
use serde_json::Value as Json;

use crate::error::Result;

#[derive(QueryableByName, Debug, Clone)]
/// A bot's memory entry.
pub struct MemoryRow {
    #[diesel(sql_type = Text)]
    /// Its key.
    pub key: String,
    #[diesel(sql_type = Jsonb)]
    /// Its value.
    pub value: Json,
    #[diesel(sql_type = BigInt)]
    /// How often it was written.
    pub version: i64,
    #[diesel(sql_type = Timestamptz)]
    /// When it was last written.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The value of a bot's key, if set.
pub fn get(conn: &mut PgConnection, bot: &str, key: &str) -> Result<Option<Json>> {
    let rows: Vec<MemoryRow> = crate::db::sql::sql(
        "SELECT key, value, version, updated_at FROM bot_memories WHERE bot = $1 AND key = $2",
    )
    .bind::<Text, _>(bot)
    .bind::<Text, _>(key)
    .load(conn)?;
    Ok(rows.into_iter().next().map(|r| r.value))
}

/// As [`get`], holding the key until the transaction ends (a transaction-scoped advisory
/// lock on the bot and key, taken whether the key exists or not): another transaction
/// reading the key this way waits for this one to commit, and then reads what it wrote.
pub fn get_locked(conn: &mut PgConnection, bot: &str, key: &str) -> Result<Option<Json>> {
    // Two statements: under READ COMMITTED a statement reads from the snapshot taken when
    // it began, so the read must begin after the lock is held to see the holder's write.
    crate::db::sql::sql(
        "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2, 7231))",
    )
    .bind::<Text, _>(bot)
    .bind::<Text, _>(key)
    .execute(conn)?;
    get(conn, bot, key)
}

/// Sets a bot's key (a new version).
pub fn set(conn: &mut PgConnection, bot: &str, key: &str, value: &Json) -> Result<()> {
    crate::db::sql::sql(
        "INSERT INTO bot_memories (bot, key, value, version) VALUES ($1, $2, $3, nextval('memory_versions')) \
         ON CONFLICT (bot, key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version, updated_at = now()",
    )
    .bind::<Text, _>(bot)
    .bind::<Text, _>(key)
    .bind::<Jsonb, _>(value)
    .execute(conn)?;
    Ok(())
}

/// All of a bot's memory, or one key.
pub fn list(conn: &mut PgConnection, bot: &str, key: Option<&str>) -> Result<Vec<MemoryRow>> {
    Ok(diesel::sql_query(
        "SELECT key, value, version, updated_at FROM bot_memories \
         WHERE bot = $1 AND ($2::text IS NULL OR key = $2) ORDER BY key",
    )
    .bind::<Text, _>(bot)
    .bind::<Nullable<Text>, _>(key)
    .load(conn)?)
}

/// Shares the bot's current value of `key` with `target` (`*` for all bots).
/// Returns false when the bot has no value for the key.
pub fn share(conn: &mut PgConnection, source: &str, target: &str, key: &str) -> Result<bool> {
    let n = crate::db::sql::sql(
        "INSERT INTO bot_shared_memory (source_bot, target_bot, key, value, version) \
         SELECT bot, $2, key, value, nextval('memory_versions') FROM bot_memories WHERE bot = $1 AND key = $3 \
         ON CONFLICT (source_bot, target_bot, key) DO UPDATE \
         SET value = EXCLUDED.value, version = EXCLUDED.version, shared_at = now()",
    )
    .bind::<Text, _>(source)
    .bind::<Text, _>(target)
    .bind::<Text, _>(key)
    .execute(conn)?;
    Ok(n > 0)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Copies every value shared with `bot` (from `source` only, if given) into its memory
/// where the shared version is newer than the bot's own write. Returns keys changed.
pub fn sync(conn: &mut PgConnection, bot: &str, source: Option<&str>) -> Result<i64> {
    let rows: Vec<Count> = crate::db::sql::sql(
        "WITH newest AS ( \
           SELECT DISTINCT ON (key) key, value, version FROM bot_shared_memory \
           WHERE (target_bot = $1 OR target_bot = '*') AND source_bot <> $1 \
             AND ($2::text IS NULL OR source_bot = $2) \
           ORDER BY key, version DESC), \
         changed AS ( \
           INSERT INTO bot_memories (bot, key, value, version) \
           SELECT $1, n.key, n.value, n.version FROM newest n \
           LEFT JOIN bot_memories m ON m.bot = $1 AND m.key = n.key \
           WHERE m.key IS NULL OR m.version < n.version \
           ON CONFLICT (bot, key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version, updated_at = now() \
           WHERE bot_memories.version < EXCLUDED.version \
           RETURNING 1) \
         SELECT count(*) AS n FROM changed",
    )
    .bind::<Text, _>(bot)
    .bind::<Nullable<Text>, _>(source)
    .load(conn)?;
    Ok(rows.first().map(|r| r.n).unwrap_or(0))
}

#[derive(QueryableByName, Debug, Clone, serde::Serialize)]
/// A shared memory entry.
pub struct ShareRow {
    #[diesel(sql_type = Text)]
    /// The bot that shared it.
    pub source_bot: String,
    #[diesel(sql_type = Text)]
    /// Who may read it (`*` for every bot).
    pub target_bot: String,
    #[diesel(sql_type = Text)]
    /// Its key.
    pub key: String,
    #[diesel(sql_type = Jsonb)]
    /// The shared value.
    pub value: Json,
    #[diesel(sql_type = BigInt)]
    /// The version shared.
    pub version: i64,
    #[diesel(sql_type = Timestamptz)]
    /// When it was shared.
    pub shared_at: chrono::DateTime<chrono::Utc>,
}

/// Shares a bot made (outgoing) and shares it can read (incoming).
pub fn shares(conn: &mut PgConnection, bot: &str) -> Result<(Vec<ShareRow>, Vec<ShareRow>)> {
    let out = crate::db::sql::sql(
        "SELECT source_bot, target_bot, key, value, version, shared_at FROM bot_shared_memory \
         WHERE source_bot = $1 ORDER BY key, target_bot",
    )
    .bind::<Text, _>(bot)
    .load(conn)?;
    let inc = crate::db::sql::sql(
        "SELECT source_bot, target_bot, key, value, version, shared_at FROM bot_shared_memory \
         WHERE (target_bot = $1 OR target_bot = '*') AND source_bot <> $1 ORDER BY key, source_bot",
    )
    .bind::<Text, _>(bot)
    .load(conn)?;
    Ok((out, inc))
}
