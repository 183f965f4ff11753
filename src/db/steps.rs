//! The steps of workflow executions (`workflow_steps`), as the workflow views show them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::db::states::{StepKind, StepStatus};
use crate::error::Result;

/// A step row as the workflow views show it.
#[derive(QueryableByName, Debug, Clone, serde::Serialize)]
pub struct StepRow {
    #[diesel(sql_type = Text)]
    /// The step's key (`3`, `3#2` in a loop).
    pub key: String,
    #[diesel(sql_type = Text)]
    /// Its label.
    pub label: String,
    #[diesel(sql_type = Text)]
    /// What it mostly does.
    pub kind: StepKind,
    #[diesel(sql_type = Text)]
    /// Where it is.
    pub status: StepStatus,
    #[diesel(sql_type = Nullable<Jsonb>)]
    /// Its result, once completed.
    pub result: Option<Json>,
    #[diesel(sql_type = Nullable<Text>)]
    /// The error of its last failed attempt.
    pub error: Option<String>,
    #[diesel(sql_type = Int4)]
    /// Attempts so far.
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    /// When it began.
    pub started_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Writes the latest state of several steps in one statement.
pub fn upsert_steps(conn: &mut PgConnection, id: Uuid, rows: &[StepRow]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&StepRow) -> String| rows.iter().map(f).collect::<Vec<_>>();
    let results: Vec<Option<&Json>> = rows.iter().map(|r| r.result.as_ref()).collect();
    let errors: Vec<Option<&str>> = rows.iter().map(|r| r.error.as_deref()).collect();
    let attempts: Vec<i32> = rows.iter().map(|r| r.attempts).collect();
    let started: Vec<DateTime<Utc>> = rows.iter().map(|r| r.started_at).collect();
    let finished: Vec<Option<DateTime<Utc>>> = rows.iter().map(|r| r.finished_at).collect();
    crate::db::sql::sql(
        "INSERT INTO workflow_steps (execution_id, key, label, kind, status, result, error, attempts, started_at, finished_at) \
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], $8::int4[], \
           $9::timestamptz[], $10::timestamptz[]) \
         ON CONFLICT (execution_id, key) DO UPDATE SET \
         kind = EXCLUDED.kind, status = EXCLUDED.status, result = EXCLUDED.result, error = EXCLUDED.error, \
         attempts = EXCLUDED.attempts, finished_at = EXCLUDED.finished_at",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Array<Text>, _>(col(|r| r.key.clone()))
    .bind::<Array<Text>, _>(col(|r| r.label.clone()))
    .bind::<Array<Text>, _>(col(|r| r.kind.as_str().to_string()))
    .bind::<Array<Text>, _>(col(|r| r.status.as_str().to_string()))
    .bind::<Array<Nullable<Jsonb>>, _>(results)
    .bind::<Array<Nullable<Text>>, _>(errors)
    .bind::<Array<Int4>, _>(attempts)
    .bind::<Array<Timestamptz>, _>(started)
    .bind::<Array<Nullable<Timestamptz>>, _>(finished)
    .execute(conn)?;
    Ok(())
}

/// The steps of an execution, in the order they began.
pub fn steps(conn: &mut PgConnection, id: Uuid) -> Result<Vec<StepRow>> {
    Ok(crate::db::sql::sql(
        "SELECT key, label, kind, status, result, error, attempts, started_at, finished_at FROM workflow_steps \
         WHERE execution_id = $1 ORDER BY seq",
    )
    .bind::<SqlUuid, _>(id)
    .load(conn)?)
}

/// Puts a failed step back to running (operator retry).
pub fn reset_step(conn: &mut PgConnection, id: Uuid, key: &str) -> Result<()> {
    crate::db::sql::sql(
        "UPDATE workflow_steps SET status = 'running', error = NULL, attempts = 1, finished_at = NULL \
         WHERE execution_id = $1 AND key = $2",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(key)
    .execute(conn)?;
    Ok(())
}
