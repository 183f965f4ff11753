//! Conversation transcripts (`messages`) and conversation context (`SET CONTEXT`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Jsonb, Text, Timestamptz, Uuid as SqlUuid};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::db::states::Direction;
use crate::error::Result;

/// Appends lines to a conversation's transcript, in order.
pub fn add_messages(
    conn: &mut PgConnection,
    conversation: Uuid,
    execution: Uuid,
    direction: Direction,
    texts: &[String],
) -> Result<()> {
    if texts.is_empty() {
        return Ok(());
    }
    crate::db::sql::sql(
        "INSERT INTO messages (conversation_id, execution_id, direction, text) \
         SELECT $1, $2, $3, t FROM unnest($4::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n",
    )
    .bind::<SqlUuid, _>(conversation)
    .bind::<SqlUuid, _>(execution)
    .bind::<Text, _>(direction.as_str())
    .bind::<Array<Text>, _>(texts)
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName, Debug, Clone, serde::Serialize)]
/// A line of a transcript.
pub struct MessageRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    /// Its id (lines are ordered by it).
    pub id: i64,
    #[diesel(sql_type = Text)]
    /// Who wrote it.
    pub direction: Direction,
    #[diesel(sql_type = Text)]
    /// The text.
    pub text: String,
    #[diesel(sql_type = Timestamptz)]
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// A conversation's transcript after the line `after`.
pub fn messages(
    conn: &mut PgConnection,
    conversation: Uuid,
    after: i64,
) -> Result<Vec<MessageRow>> {
    Ok(crate::db::sql::sql(
        "SELECT id, direction, text, created_at FROM messages WHERE conversation_id = $1 AND id > $2 ORDER BY id",
    )
    .bind::<SqlUuid, _>(conversation)
    .bind::<diesel::sql_types::BigInt, _>(after)
    .load(conn)?)
}

/// Sets a key of a conversation's context (`SET CONTEXT`).
pub fn set_context(
    conn: &mut PgConnection,
    conversation: Uuid,
    key: &str,
    value: &Json,
) -> Result<()> {
    crate::db::sql::sql(
        "INSERT INTO conversation_context (conversation_id, key, value) VALUES ($1, $2, $3) \
         ON CONFLICT (conversation_id, key) DO UPDATE SET value = EXCLUDED.value",
    )
    .bind::<SqlUuid, _>(conversation)
    .bind::<Text, _>(key)
    .bind::<Jsonb, _>(value)
    .execute(conn)?;
    Ok(())
}
