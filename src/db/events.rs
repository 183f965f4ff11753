//! Events (`workflow_events`), event waits, `ON EVENT` handlers and their deliveries.
//!
//! Race freedom (docs/language.md): publishing an event and registering a wait for that name
//! both take a transaction-scoped advisory lock on the name. A publisher wakes every
//! registered wait; a waiter, after registering, looks for events above its cursor. With
//! the lock, one of the two always sees the other, so no wake-up falls between them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::error::Result;

/// A stored event.
#[derive(QueryableByName, Debug, Clone, serde::Serialize)]
pub struct EventRow {
    #[diesel(sql_type = BigInt)]
    /// The event's id (events are ordered by it).
    pub id: i64,
    #[diesel(sql_type = Text)]
    /// Its name.
    pub name: String,
    #[diesel(sql_type = Jsonb)]
    /// Its payload.
    pub payload: Json,
    #[diesel(sql_type = Nullable<Text>)]
    /// The bot that published it, if a script did.
    pub source_bot: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    /// The execution that published it, if any.
    pub source_execution: Option<Uuid>,
    #[diesel(sql_type = Timestamptz)]
    /// When it was published.
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
    match sorted.as_slice() {
        [] => {}
        [one] => {
            crate::db::sql::sql("SELECT pg_advisory_xact_lock(7231, hashtext($1))")
                .bind::<Text, _>(*one)
                .execute(conn)?;
        }
        many => {
            // All in one statement, taken in the order given (the subquery's ORDER BY
            // keeps it from being merged into the outer query).
            crate::db::sql::sql(
                "SELECT pg_advisory_xact_lock(7231, hashtext(n)) FROM \
                 (SELECT n FROM unnest($1::text[]) WITH ORDINALITY AS t(n, i) ORDER BY i) s",
            )
            .bind::<diesel::sql_types::Array<Text>, _>(
                many.iter().map(|n| n.as_str()).collect::<Vec<_>>(),
            )
            .execute(conn)?;
        }
    }
    Ok(())
}

/// An `ON EVENT` handler registered for an event's name.
#[derive(serde::Deserialize, Debug, Clone)]
pub struct Handler {
    /// The handler's bot.
    pub bot: String,
    /// The script with the `ON EVENT` block.
    pub script: String,
    /// The block's entry point in that script.
    pub entry: i32,
    /// The script version the handler runs.
    pub script_hash: String,
    /// The handler's bot is paused: its execution is stored, not claimed.
    #[serde(default)]
    pub paused: bool,
}

/// The stored event, the waits it ended and the handlers of its name (one statement).
#[derive(QueryableByName)]
struct StoredRow {
    #[diesel(embed)]
    event: EventRow,
    #[diesel(sql_type = Array<SqlUuid>)]
    waiters: Vec<Uuid>,
    #[diesel(sql_type = Array<Nullable<Text>>)]
    deliver: Vec<Option<String>>,
    #[diesel(sql_type = Jsonb)]
    handlers: Json,
}

/// What storing an event found: whom it wakes and which handlers it starts.
pub struct Stored {
    /// The stored event.
    pub event: EventRow,
    /// The executions whose registered waits it ended, in id order, each with the
    /// journal key the event is delivered under when its wait asked for that (one
    /// name, no `WHERE`).
    pub waiters: Vec<(Uuid, Option<String>)>,
    /// The handlers of its name, to start once each.
    pub handlers: Vec<Handler>,
}

/// Stores an event and, in the same statement, removes the waits it ends and reads the
/// handlers of its name. Call inside a transaction that holds the name's lock already
/// ([`lock_names`], in an earlier statement: this statement reads, its snapshot taken,
/// only once no other publish or wait of the name is in flight).
pub fn store(
    conn: &mut PgConnection,
    name: &str,
    payload: &Json,
    source_bot: Option<&str>,
    source_execution: Option<Uuid>,
    chain: i32,
) -> Result<Stored> {
    let rows: Vec<StoredRow> = crate::db::sql::sql(
        "WITH ev AS (INSERT INTO workflow_events (name, payload, source_bot, source_execution, chain) \
           VALUES ($1, $2, $3, $4, $5) RETURNING id, name, payload, source_bot, source_execution, created_at), \
         w AS (DELETE FROM event_waits WHERE names @> ARRAY[$1]::text[] AND cursor < (SELECT id FROM ev) \
           RETURNING execution_id, key, deliver) \
         SELECT ev.*, ARRAY(SELECT execution_id FROM w ORDER BY execution_id) AS waiters, \
           ARRAY(SELECT CASE WHEN deliver THEN key END FROM w ORDER BY execution_id) AS deliver, \
           (SELECT coalesce(jsonb_agg(jsonb_build_object('bot', h.bot, 'script', h.script, 'entry', h.entry, \
              'script_hash', h.script_hash, 'paused', p.bot IS NOT NULL) ORDER BY h.bot, h.script, h.entry), '[]'::jsonb) \
            FROM event_handlers h LEFT JOIN paused_bots p ON p.bot = h.bot WHERE h.event = $1) AS handlers \
         FROM ev",
    )
    .bind::<Text, _>(name)
    .bind::<Jsonb, _>(payload)
    .bind::<Nullable<Text>, _>(source_bot)
    .bind::<Nullable<SqlUuid>, _>(source_execution)
    .bind::<Int4, _>(chain)
    .load(conn)?;
    let Some(StoredRow {
        event,
        waiters,
        deliver,
        handlers,
    }) = rows.into_iter().next()
    else {
        return Err(crate::error::Error::Internal(
            "event insert returned nothing".into(),
        ));
    };
    let handlers: Vec<Handler> = serde_json::from_value(handlers)
        .map_err(|e| crate::error::Error::Internal(format!("event handlers: {e}")))?;
    if deliver.len() != waiters.len() {
        return Err(crate::error::Error::Internal(
            "event insert returned mismatched waiters".into(),
        ));
    }
    Ok(Stored {
        event,
        waiters: waiters.into_iter().zip(deliver).collect(),
        handlers,
    })
}

/// The chain of the event a handler's execution runs for (0 when it runs for none).
pub fn chain_of(conn: &mut PgConnection, execution: Uuid) -> Result<i32> {
    #[derive(QueryableByName)]
    struct Chain {
        #[diesel(sql_type = Int4)]
        chain: i32,
    }
    let rows: Vec<Chain> = crate::db::sql::sql(
        "SELECT e.chain FROM event_deliveries d JOIN workflow_events e ON e.id = d.event_id \
         WHERE d.execution_id = $1",
    )
    .bind::<SqlUuid, _>(execution)
    .load(conn)?;
    Ok(rows.first().map_or(0, |r| r.chain))
}

/// Pauses `bot` (true when it was not paused).
pub fn pause(conn: &mut PgConnection, bot: &str) -> Result<bool> {
    Ok(
        crate::db::sql::sql("INSERT INTO paused_bots (bot) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind::<Text, _>(bot)
            .execute(conn)?
            > 0,
    )
}

/// Resumes `bot` (true when it was paused).
pub fn resume(conn: &mut PgConnection, bot: &str) -> Result<bool> {
    Ok(
        crate::db::sql::sql("DELETE FROM paused_bots WHERE bot = $1")
            .bind::<Text, _>(bot)
            .execute(conn)?
            > 0,
    )
}

/// The paused bots.
pub fn paused_bots(conn: &mut PgConnection) -> Result<std::collections::HashSet<String>> {
    #[derive(QueryableByName)]
    struct B {
        #[diesel(sql_type = Text)]
        bot: String,
    }
    let rows: Vec<B> = crate::db::sql::sql("SELECT bot FROM paused_bots").load(conn)?;
    Ok(rows.into_iter().map(|r| r.bot).collect())
}

/// Records that `handler` runs for `event` as `execution`; false when it already has a
/// delivery (one execution per event and handler).
pub fn deliver(
    conn: &mut PgConnection,
    event: i64,
    handler: &Handler,
    execution: Uuid,
) -> Result<bool> {
    let n = crate::db::sql::sql(
        "INSERT INTO event_deliveries (event_id, bot, script, entry, execution_id) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind::<BigInt, _>(event)
    .bind::<Text, _>(&handler.bot)
    .bind::<Text, _>(&handler.script)
    .bind::<Int4, _>(handler.entry)
    .bind::<SqlUuid, _>(execution)
    .execute(conn)?;
    Ok(n == 1)
}

/// Tells the other instances, at commit, that work appeared (`NOTIFY botserver_wake`).
pub fn notify_wake(conn: &mut PgConnection, payload: &str) -> Result<()> {
    crate::db::sql::sql("SELECT pg_notify('botserver_wake', $1)")
        .bind::<Text, _>(payload)
        .execute(conn)?;
    Ok(())
}

/// The newest event id among these names (the cursor of a new wait).
pub fn cursor(conn: &mut PgConnection, names: &[String]) -> Result<i64> {
    #[derive(QueryableByName)]
    struct Max {
        #[diesel(sql_type = Nullable<BigInt>)]
        id: Option<i64>,
    }
    let rows: Vec<Max> =
        // One index lookup per name (see `after`).
        crate::db::sql::sql(
            "SELECT max(m.id) AS id FROM unnest($1::text[]) AS n(name) \
             CROSS JOIN LATERAL (SELECT max(id) AS id FROM workflow_events e WHERE e.name = n.name) m",
        )
            .bind::<Array<Text>, _>(names)
            .load(conn)?;
    Ok(rows.first().and_then(|r| r.id).unwrap_or(0))
}

/// Events of these names above `after`, oldest first.
///
/// Written as one range scan of `events_by_name (name, id)` per name, merged: the
/// statement is prepared once per connection, and PostgreSQL's generic plan for
/// `name = ANY($1) AND id > $2 ORDER BY id LIMIT $3` can be a walk of the primary key
/// in id order filtering every event above the cursor by name, which cost 10-100 ms per
/// woken waiter once thousands of other events were above its cursor (a storm of
/// wake-ups, each waiter its own event).
pub fn after(
    conn: &mut PgConnection,
    names: &[String],
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>> {
    Ok(crate::db::sql::sql(
        "SELECT e.id, e.name, e.payload, e.source_bot, e.source_execution, e.created_at \
         FROM unnest($1::text[]) AS n(name) CROSS JOIN LATERAL ( \
           SELECT id, name, payload, source_bot, source_execution, created_at FROM workflow_events w \
           WHERE w.name = n.name AND w.id > $2 ORDER BY w.id LIMIT $3) e \
         ORDER BY e.id LIMIT $3",
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
    // Two statements, so that each has a plan of its own (by name: the name's index range).
    Ok(match name {
        Some(n) => diesel::sql_query(
            "SELECT id, name, payload, source_bot, source_execution, created_at FROM workflow_events \
             WHERE name = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind::<Text, _>(n)
        .bind::<BigInt, _>(after)
        .bind::<BigInt, _>(limit)
        .load(conn)?,
        None => diesel::sql_query(
            "SELECT id, name, payload, source_bot, source_execution, created_at FROM workflow_events \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind::<BigInt, _>(after)
        .bind::<BigInt, _>(limit)
        .load(conn)?,
    })
}

/// Registers a wait (in the suspending run's commit). Returns true when an event above
/// the cursor already exists, so the execution must run again instead of waiting. With
/// `deliver`, the publisher that ends the wait while the execution waits writes its
/// event into the journal under `key` ([`crate::db::leases::wake_if_waiting`]).
pub fn register_wait(
    conn: &mut PgConnection,
    execution: Uuid,
    key: &str,
    names: &[String],
    cursor: i64,
    deliver: bool,
) -> Result<bool> {
    lock_names(conn, names)?;
    crate::db::sql::sql(
        "INSERT INTO event_waits (execution_id, key, names, cursor, deliver) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (execution_id) DO UPDATE SET key = EXCLUDED.key, names = EXCLUDED.names, \
         cursor = EXCLUDED.cursor, deliver = EXCLUDED.deliver",
    )
    .bind::<SqlUuid, _>(execution)
    .bind::<Text, _>(key)
    .bind::<Array<Text>, _>(names)
    .bind::<BigInt, _>(cursor)
    .bind::<diesel::sql_types::Bool, _>(deliver)
    .execute(conn)?;
    Ok(!after(conn, names, cursor, 1)?.is_empty())
}

/// Removes an execution's registered event wait.
pub fn clear_wait(conn: &mut PgConnection, execution: Uuid) -> Result<()> {
    crate::db::sql::sql("DELETE FROM event_waits WHERE execution_id = $1")
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
    crate::db::sql::sql("DELETE FROM event_handlers WHERE bot = $1")
        .bind::<Text, _>(bot)
        .execute(conn)?;
    for (script, entry, event, hash) in handlers {
        crate::db::sql::sql(
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

/// The latest events, newest first, by name (optional).
pub fn latest(conn: &mut PgConnection, name: Option<&str>, limit: i64) -> Result<Vec<EventRow>> {
    let text = match name {
        Some(_) => "SELECT id, name, payload, source_bot, source_execution, created_at FROM workflow_events \
                    WHERE name = $1 ORDER BY id DESC LIMIT $2",
        None => "SELECT id, name, payload, source_bot, source_execution, created_at FROM workflow_events \
                 ORDER BY id DESC LIMIT $1",
    };
    let q = diesel::sql_query(text).into_boxed::<diesel::pg::Pg>();
    let q = match name {
        Some(n) => q.bind::<Text, _>(n.to_string()),
        None => q,
    };
    Ok(q.bind::<BigInt, _>(limit).load(conn)?)
}

/// The id of the newest event (0 when there is none).
pub fn newest_id(conn: &mut PgConnection) -> Result<i64> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let rows: Vec<Row> =
        crate::db::sql::sql("SELECT coalesce(max(id), 0) AS id FROM workflow_events").load(conn)?;
    Ok(rows.first().map(|r| r.id).unwrap_or(0))
}
