//! The journal of each execution (`journal`): entries are only ever added, once per
//! key; an operator's retry forgets those of the failed step.

use diesel::prelude::*;
use diesel::sql_types::{Array, Jsonb, Text, Uuid as SqlUuid};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::error::Result;

/// Appends entries to an execution's journal. A key written twice is an error
/// (the transaction fails), never an overwrite.
pub fn append_journal(conn: &mut PgConnection, id: Uuid, entries: &[(String, Json)]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    let values: Vec<&Json> = entries.iter().map(|(_, v)| v).collect();
    crate::db::sql::sql(
        "INSERT INTO journal (execution_id, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::jsonb[]) AS t(k, v)",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Array<Text>, _>(keys)
    .bind::<Array<Jsonb>, _>(values)
    .execute(conn)?;
    Ok(())
}

/// Deletes journal entries whose key starts with one of the prefixes (retry from a step).
pub fn forget_journal(conn: &mut PgConnection, id: Uuid, prefixes: &[String]) -> Result<usize> {
    Ok(crate::db::sql::sql(
        "DELETE FROM journal WHERE execution_id = $1 AND EXISTS (SELECT 1 FROM unnest($2::text[]) p WHERE starts_with(key, p))",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Array<Text>, _>(prefixes)
    .execute(conn)?)
}

/// Forgets recorded child failures (entries with the top-level key `marker`) so that
/// the children run again.
pub fn forget_failures(conn: &mut PgConnection, id: Uuid, marker: &str) -> Result<usize> {
    Ok(
        crate::db::sql::sql("DELETE FROM journal WHERE execution_id = $1 AND value ? $2")
            .bind::<SqlUuid, _>(id)
            .bind::<Text, _>(marker)
            .execute(conn)?,
    )
}

/// One entry of an execution's journal.
pub fn entry(conn: &mut PgConnection, id: Uuid, key: &str) -> Result<Option<Json>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Jsonb)]
        value: Json,
    }
    let rows: Vec<Row> =
        crate::db::sql::sql("SELECT value FROM journal WHERE execution_id = $1 AND key = $2")
            .bind::<SqlUuid, _>(id)
            .bind::<Text, _>(key)
            .load(conn)?;
    Ok(rows.into_iter().next().map(|r| r.value))
}

/// One journal entry as the console lists it.
#[derive(QueryableByName, Debug, Clone)]
pub struct EntryRow {
    /// Its key (`scope/op#n`).
    #[diesel(sql_type = Text)]
    pub key: String,
    /// What a replay answers from it.
    #[diesel(sql_type = Jsonb)]
    pub value: Json,
    /// When it was written.
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// An execution's journal in the order it was written, at most `limit` entries.
pub fn entries(conn: &mut PgConnection, id: Uuid, limit: i64) -> Result<Vec<EntryRow>> {
    Ok(crate::db::sql::sql(
        "SELECT key, value, created_at FROM journal WHERE execution_id = $1 \
         ORDER BY created_at, key LIMIT $2",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)?)
}
