//! Events (`workflow_events`), event waits, `ON EVENT` handlers and their deliveries.
//!
//! Race freedom (DESIGN §2.5): publishing an event and registering a wait for that name
//! both take a transaction-scoped advisory lock on the name. A publisher wakes every
//! registered wait; a waiter, after registering, looks for events above its cursor. With
//! the lock, one of the two always sees the other, so no wake-up falls between them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde_json::Value as Json;
use uuid::Uuid;

use super::executions::{self, NewExecution};
use crate::error::Result;

/// A stored event.
#[derive(QueryableByName, Debug, Clone, serde::Serialize)]
pub struct EventRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Jsonb)]
    pub payload: Json,
    #[diesel(sql_type = Nullable<Text>)]
    pub source_bot: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub source_execution: Option<Uuid>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl EventRow {
    /// The value a script sees in `event`.
    pub fn to_script_value(&self) -> Json {
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "payload": self.payload,
            "source": self.source_bot,
            "at": self.created_at.to_rfc3339(),
        })
    }
}

/// Takes the transaction-scoped lock of each name (in a fixed order). Whoever also locks
/// an execution row (a publisher waking a waiter, a run registering or ending a wait)
/// takes these first, so the two kinds of lock are always taken in the same order.
pub fn lock_names(conn: &mut PgConnection, names: &[String]) -> Result<()> {
    let mut sorted: Vec<&String> = names.iter().collect();
    sorted.sort();
    sorted.dedup();
    for n in sorted {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7231, hashtext($1))")
            .bind::<Text, _>(n)
            .execute(conn)?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct WaiterRow {
    #[diesel(sql_type = SqlUuid)]
    execution_id: Uuid,
}

#[derive(QueryableByName)]
struct HandlerRow {
    #[diesel(sql_type = Text)]
    bot: String,
    #[diesel(sql_type = Text)]
    script: String,
    #[diesel(sql_type = Int4)]
    entry: i32,
    #[diesel(sql_type = Text)]
    script_hash: String,
}

/// What publishing did: the event, and executions to wake or start.
#[derive(Debug, Default)]
pub struct Published {
    pub id: i64,
    pub woken: usize,
    pub handlers: usize,
}

/// Stores an event, wakes the executions waiting for its name and starts one execution
/// per `ON EVENT` handler of that name. Call inside a transaction.
pub fn publish(
    conn: &mut PgConnection,
    name: &str,
    payload: &Json,
    source_bot: Option<&str>,
    source_execution: Option<Uuid>,
    conversation_id: Option<Uuid>,
) -> Result<Published> {
    lock_names(conn, &[name.to_string()])?;
    let rows: Vec<EventRow> = diesel::sql_query(
        "INSERT INTO workflow_events (name, payload, source_bot, source_execution) VALUES ($1, $2, $3, $4) \
         RETURNING id, name, payload, source_bot, source_execution, created_at",
    )
    .bind::<Text, _>(name)
    .bind::<Jsonb, _>(payload)
    .bind::<Nullable<Text>, _>(source_bot)
    .bind::<Nullable<SqlUuid>, _>(source_execution)
    .load(conn)?;
    let Some(event) = rows.into_iter().next() else {
        return Err(crate::error::Error::Internal(
            "event insert returned nothing".into(),
        ));
    };
    let waiters: Vec<WaiterRow> = diesel::sql_query(
        "DELETE FROM event_waits WHERE names @> ARRAY[$1]::text[] AND cursor < $2 RETURNING execution_id",
    )
    .bind::<Text, _>(name)
    .bind::<BigInt, _>(event.id)
    .load(conn)?;
    let mut out = Published {
        id: event.id,
        ..Default::default()
    };
    for w in &waiters {
        if let Some(status) = executions::lock_status(conn, w.execution_id)? {
            executions::wake_locked(conn, w.execution_id, &status)?;
            out.woken += 1;
        }
    }
    let handlers: Vec<HandlerRow> = diesel::sql_query(
        "SELECT bot, script, entry, script_hash FROM event_handlers WHERE event = $1 ORDER BY bot, script, entry",
    )
    .bind::<Text, _>(name)
    .load(conn)?;
    for h in handlers {
        let id = Uuid::now_v7();
        let n = diesel::sql_query(
            "INSERT INTO event_deliveries (event_id, bot, script, entry, execution_id) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind::<BigInt, _>(event.id)
        .bind::<Text, _>(&h.bot)
        .bind::<Text, _>(&h.script)
        .bind::<Int4, _>(h.entry)
        .bind::<SqlUuid, _>(id)
        .execute(conn)?;
        if n == 0 {
            continue;
        }
        executions::create(
            conn,
            &NewExecution {
                id,
                kind: "handler",
                bot: h.bot,
                script: h.script,
                script_hash: h.script_hash,
                entry: h.entry,
                name: Some(name.to_string()),
                input: serde_json::json!({ "event": event.to_script_value() }),
                parent_id: None,
                parent_key: None,
                conversation_id,
                owner: None,
            },
            0.0,
        )?;
        out.handlers += 1;
    }
    // Other instances learn of new work through this notification (sent at commit).
    diesel::sql_query("SELECT pg_notify('botserver_wake', $1)")
        .bind::<Text, _>(name)
        .execute(conn)?;
    Ok(out)
}

/// The newest event id among these names (the cursor of a new wait).
pub fn cursor(conn: &mut PgConnection, names: &[String]) -> Result<i64> {
    #[derive(QueryableByName)]
    struct Max {
        #[diesel(sql_type = Nullable<BigInt>)]
        id: Option<i64>,
    }
    let rows: Vec<Max> =
        diesel::sql_query("SELECT max(id) AS id FROM workflow_events WHERE name = ANY($1)")
            .bind::<Array<Text>, _>(names)
            .load(conn)?;
    Ok(rows.first().and_then(|r| r.id).unwrap_or(0))
}

/// Events of these names above `after`, oldest first.
pub fn after(
    conn: &mut PgConnection,
    names: &[String],
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>> {
    Ok(diesel::sql_query(
        "SELECT id, name, payload, source_bot, source_execution, created_at FROM workflow_events \
         WHERE name = ANY($1) AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind::<Array<Text>, _>(names)
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)?)
}

/// Events for the API: by name (optional) above an id.
pub fn list(
    conn: &mut PgConnection,
    name: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>> {
    Ok(diesel::sql_query(
        "SELECT id, name, payload, source_bot, source_execution, created_at FROM workflow_events \
         WHERE ($1::text IS NULL OR name = $1) AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind::<Nullable<Text>, _>(name)
    .bind::<BigInt, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)?)
}

/// Registers a wait (in the suspending run's commit). Returns true when an event above
/// the cursor already exists, so the execution must run again instead of waiting.
pub fn register_wait(
    conn: &mut PgConnection,
    execution: Uuid,
    key: &str,
    names: &[String],
    cursor: i64,
) -> Result<bool> {
    lock_names(conn, names)?;
    diesel::sql_query(
        "INSERT INTO event_waits (execution_id, key, names, cursor) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (execution_id) DO UPDATE SET key = EXCLUDED.key, names = EXCLUDED.names, cursor = EXCLUDED.cursor",
    )
    .bind::<SqlUuid, _>(execution)
    .bind::<Text, _>(key)
    .bind::<Array<Text>, _>(names)
    .bind::<BigInt, _>(cursor)
    .execute(conn)?;
    Ok(!after(conn, names, cursor, 1)?.is_empty())
}

pub fn clear_wait(conn: &mut PgConnection, execution: Uuid) -> Result<()> {
    diesel::sql_query("DELETE FROM event_waits WHERE execution_id = $1")
        .bind::<SqlUuid, _>(execution)
        .execute(conn)?;
    Ok(())
}

/// Replaces the registered `ON EVENT` handlers of a bot.
pub fn set_handlers(
    conn: &mut PgConnection,
    bot: &str,
    handlers: &[(String, i32, String, String)],
) -> Result<()> {
    diesel::sql_query("DELETE FROM event_handlers WHERE bot = $1")
        .bind::<Text, _>(bot)
        .execute(conn)?;
    for (script, entry, event, hash) in handlers {
        diesel::sql_query(
            "INSERT INTO event_handlers (bot, script, entry, event, script_hash) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind::<Text, _>(bot)
        .bind::<Text, _>(script)
        .bind::<Int4, _>(*entry)
        .bind::<Text, _>(event)
        .bind::<Text, _>(hash)
        .execute(conn)?;
    }
    Ok(())
}
