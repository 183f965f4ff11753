//! Schedules (`schedules`, `schedule_runs`): the scripts with a `SET SCHEDULE`, their
//! next run, and the ticks that ran. Keeping them in step with the packages and firing
//! them is `workflow::schedules`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use crate::error::Result;

/// A schedule row.
#[derive(QueryableByName, Debug, Clone, serde::Serialize)]
pub struct ScheduleRow {
    #[diesel(sql_type = Text)]
    /// The bot.
    pub bot: String,
    #[diesel(sql_type = Text)]
    /// The script (file stem).
    pub script: String,
    #[diesel(sql_type = Text)]
    /// Its cron expression (five fields, or six with seconds first), in UTC.
    pub cron: String,
    #[diesel(sql_type = Timestamptz)]
    /// The next tick to run.
    pub next_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    /// The last tick that was run (or tried).
    pub last_tick: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    /// When that tick was fired.
    pub last_run_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    /// The execution of that tick.
    pub last_execution_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    /// Why that tick started nothing, if it did not.
    pub last_error: Option<String>,
}

const COLUMNS: &str =
    "bot, script, cron, next_at, last_tick, last_run_at, last_execution_id, last_error";

/// Makes a bot's schedules those of `scheduled` (script, cron, first tick): a new one is
/// added, one whose cron changed starts again from its new first tick, one whose cron
/// did not change keeps its next run; the others go, except those of `keep` (scripts
/// that could not be read this time), which stay as they were. Call in a transaction.
pub fn set_for_bot(
    conn: &mut PgConnection,
    bot: &str,
    scheduled: &[(String, String, DateTime<Utc>)],
    keep: &[String],
) -> Result<()> {
    for (script, cron, first) in scheduled {
        crate::db::sql::sql(
            "INSERT INTO schedules (bot, script, cron, next_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (bot, script) DO UPDATE SET cron = EXCLUDED.cron, next_at = EXCLUDED.next_at, \
             last_error = NULL, updated_at = now() WHERE schedules.cron <> EXCLUDED.cron",
        )
        .bind::<Text, _>(bot)
        .bind::<Text, _>(script)
        .bind::<Text, _>(cron)
        .bind::<Timestamptz, _>(*first)
        .execute(conn)?;
    }
    let mut names: Vec<&str> = scheduled.iter().map(|(s, _, _)| s.as_str()).collect();
    names.extend(keep.iter().map(String::as_str));
    crate::db::sql::sql("DELETE FROM schedules WHERE bot = $1 AND NOT (script = ANY($2))")
        .bind::<Text, _>(bot)
        .bind::<Array<Text>, _>(names)
        .execute(conn)?;
    Ok(())
}

/// A due schedule, locked for the transaction, with the database's clock.
#[derive(QueryableByName, Debug)]
pub struct Due {
    #[diesel(embed)]
    /// The schedule.
    pub schedule: ScheduleRow,
    #[diesel(sql_type = Timestamptz)]
    /// The database's time (one clock for every instance).
    pub now: DateTime<Utc>,
}

/// True when some schedule of these bots is due: one cheap look before a transaction.
pub fn any_due(conn: &mut PgConnection, bots: &[String]) -> Result<bool> {
    #[derive(QueryableByName)]
    struct Any {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        due: bool,
    }
    let rows: Vec<Any> = crate::db::sql::sql(
        "SELECT EXISTS (SELECT 1 FROM schedules WHERE next_at <= now() AND bot = ANY($1)) AS due",
    )
    .bind::<Array<Text>, _>(bots)
    .load(conn)?;
    Ok(rows.first().is_some_and(|r| r.due))
}

/// Locks up to `limit` schedules of these bots whose next run is due, skipping those
/// another instance is firing now. Call in a transaction.
pub fn lock_due(conn: &mut PgConnection, bots: &[String], limit: i64) -> Result<Vec<Due>> {
    Ok(crate::db::sql::sql(format!(
        "SELECT {COLUMNS}, now() AS now FROM schedules WHERE next_at <= now() AND bot = ANY($1) \
         ORDER BY next_at LIMIT $2 FOR UPDATE SKIP LOCKED"
    ))
    .bind::<Array<Text>, _>(bots)
    .bind::<BigInt, _>(limit)
    .load(conn)?)
}

/// Records that `tick` of a schedule runs as `execution`. False when that tick has run
/// already (its execution must then not be created). Call in the transaction that
/// inserts the execution.
pub fn record_run(
    conn: &mut PgConnection,
    bot: &str,
    script: &str,
    tick: DateTime<Utc>,
    execution: Uuid,
) -> Result<bool> {
    let n = crate::db::sql::sql(
        "INSERT INTO schedule_runs (bot, script, tick, execution_id) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(bot)
    .bind::<Text, _>(script)
    .bind::<Timestamptz, _>(tick)
    .bind::<SqlUuid, _>(execution)
    .execute(conn)?;
    Ok(n == 1)
}

/// Moves a schedule on from the tick due at `due` to `next`, recording the tick fired
/// and its execution or why it started none. False when the schedule is no longer due
/// at `due` (changed or removed meanwhile).
#[allow(clippy::too_many_arguments)]
pub fn advance(
    conn: &mut PgConnection,
    bot: &str,
    script: &str,
    due: DateTime<Utc>,
    next: DateTime<Utc>,
    tick: DateTime<Utc>,
    execution: Option<Uuid>,
    error: Option<&str>,
) -> Result<bool> {
    let n = crate::db::sql::sql(
        "UPDATE schedules SET next_at = $4, last_tick = $5, last_run_at = now(), \
         last_execution_id = COALESCE($6, last_execution_id), last_error = $7, updated_at = now() \
         WHERE bot = $1 AND script = $2 AND next_at = $3",
    )
    .bind::<Text, _>(bot)
    .bind::<Text, _>(script)
    .bind::<Timestamptz, _>(due)
    .bind::<Timestamptz, _>(next)
    .bind::<Timestamptz, _>(tick)
    .bind::<Nullable<SqlUuid>, _>(execution)
    .bind::<Nullable<Text>, _>(error)
    .execute(conn)?;
    Ok(n == 1)
}

/// Every schedule (of one bot, if given), by bot and script.
pub fn list(conn: &mut PgConnection, bot: Option<&str>) -> Result<Vec<ScheduleRow>> {
    Ok(diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM schedules WHERE ($1::text IS NULL OR bot = $1) ORDER BY bot, script"
    ))
    .bind::<Nullable<Text>, _>(bot)
    .load(conn)?)
}
