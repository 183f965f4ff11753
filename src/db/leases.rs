//! Who runs an execution: claiming with leases (`owner`, `lease_until`, `FOR UPDATE SKIP
//! LOCKED`), renewing and releasing them, ending or suspending a run under its lease,
//! and the wake-up protocol.
//!
//! Wake-up protocol. A wake-up (a child's result, a message, an approval decision) is a
//! journal entry written for a waiting execution. [`resolve_wait`] locks the execution
//! row, inserts the entry and then either makes a `waiting` execution runnable or, when
//! it is still `running` (its run has not committed its suspend yet), sets
//! `wake_pending`. A run's commit ([`suspend_owned`]) reads `wake_pending` under the same row
//! lock and turns its suspend into "run again" when it is set. The row lock orders the two,
//! so no wake-up is lost between "decided to wait" and "committed the wait".

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Double, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde_json::Value as Json;
use uuid::Uuid;

use super::executions::{lock_status, ExecRow, ExecWithJournal, COLUMNS};
use crate::db::states::ExecStatus;
use crate::error::Result;

/// Claims up to `limit` runnable executions for `owner`: running ones without a live
/// lease (new, released, or their instance died) and waiting ones whose timer is due.
pub fn claim(
    conn: &mut PgConnection,
    owner: &str,
    lease_secs: f64,
    limit: i64,
) -> Result<Vec<(ExecRow, Json)>> {
    // Each claimed row comes back with its journal, so a run needs no query to start.
    let returning = format!(
        "RETURNING {COLUMNS}, (SELECT coalesce(jsonb_object_agg(j.key, j.value), '{{}}'::jsonb) FROM journal j \
         WHERE j.execution_id = workflow_executions.id) AS journal"
    );
    // Due timers first, up to half of the batch: a flood of runnable work (an event
    // storm) cannot keep a timer that is due waiting behind it. Runnable rows take the
    // rest, and due timers any room they leave. A paused bot's executions stay put.
    let due = |conn: &mut PgConnection, n: i64| -> Result<Vec<ExecWithJournal>> {
        if n <= 0 {
            return Ok(Vec::new());
        }
        Ok(crate::db::sql::sql(format!(
            "UPDATE workflow_executions SET status = 'running', wake_at = NULL, owner = $1, \
             lease_until = now() + make_interval(secs => $2), runs = runs + 1 \
             WHERE id IN (SELECT id FROM workflow_executions WHERE status = 'waiting' AND wake_at <= now() \
               AND bot NOT IN (SELECT bot FROM paused_bots) \
               ORDER BY wake_at LIMIT $3 FOR UPDATE SKIP LOCKED) {returning}"
        ))
        .bind::<Text, _>(owner)
        .bind::<Double, _>(lease_secs)
        .bind::<diesel::sql_types::BigInt, _>(n)
        .load(conn)?)
    };
    let mut rows = due(conn, (limit / 2).max(1))?;
    // Oldest first among the unleased (woken, new or released: `updated_at` is when they
    // became runnable), so that under a backlog none waits while later ones are taken.
    let runnable: Vec<ExecWithJournal> = crate::db::sql::sql(format!(
        "UPDATE workflow_executions SET owner = $1, lease_until = now() + make_interval(secs => $2), runs = runs + 1 \
         WHERE id IN (SELECT id FROM workflow_executions WHERE status = 'running' \
           AND (lease_until IS NULL OR lease_until < now()) \
           AND bot NOT IN (SELECT bot FROM paused_bots) ORDER BY lease_until NULLS FIRST, updated_at \
           LIMIT $3 FOR UPDATE SKIP LOCKED) {returning}"
    ))
    .bind::<Text, _>(owner)
    .bind::<Double, _>(lease_secs)
    .bind::<diesel::sql_types::BigInt, _>(limit - rows.len() as i64)
    .load(conn)?;
    let full = rows.len() as i64 + runnable.len() as i64 >= limit;
    rows.extend(runnable);
    if !full {
        let more = due(conn, limit - rows.len() as i64)?;
        rows.extend(more);
    }
    Ok(rows.into_iter().map(|r| (r.exec, r.journal)).collect())
}

/// Extends the lease of executions this owner is running.
pub fn renew(conn: &mut PgConnection, owner: &str, ids: &[Uuid], lease_secs: f64) -> Result<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(crate::db::sql::sql(
        "UPDATE workflow_executions SET lease_until = now() + make_interval(secs => $3) \
         WHERE id = ANY($2) AND owner = $1 AND status = 'running'",
    )
    .bind::<Text, _>(owner)
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Double, _>(lease_secs)
    .execute(conn)?)
}

/// Gives up this owner's leases (graceful shutdown): another instance may run them at once.
pub fn release_all(conn: &mut PgConnection, owner: &str) -> Result<usize> {
    Ok(crate::db::sql::sql(
        "UPDATE workflow_executions SET owner = NULL, lease_until = NULL WHERE owner = $1 AND status = 'running'",
    )
    .bind::<Text, _>(owner)
    .execute(conn)?)
}

/// How a run ends an execution (see [`finish_owned`]).
pub struct Finish<'a> {
    /// `Completed` or `Failed`.
    pub status: ExecStatus,
    /// The result, when completed.
    pub result: Option<&'a Json>,
    /// The error, when failed.
    pub error: Option<&'a str>,
    /// The variables after the run.
    pub variables: &'a Json,
    /// The run's new journal entries, written by the same statement.
    pub journal: &'a [(String, Json)],
    /// Also removes the execution's registered event wait.
    pub clear_wait: bool,
}

/// Ends an execution this owner runs, appending the run's journal entries (and removing
/// its event wait when asked) in the same statement: one round trip for the end of a
/// run. False when the lease was lost (the caller must abandon the transaction, which
/// takes the journal entries back too).
pub fn finish_owned(conn: &mut PgConnection, id: Uuid, owner: &str, end: &Finish) -> Result<bool> {
    let keys: Vec<&str> = end.journal.iter().map(|(k, _)| k.as_str()).collect();
    let values: Vec<&Json> = end.journal.iter().map(|(_, v)| v).collect();
    let n = crate::db::sql::sql(
        "WITH j AS (INSERT INTO journal (execution_id, key, value) \
           SELECT $1, k, v FROM unnest($7::text[], $8::jsonb[]) AS t(k, v)), \
         w AS (DELETE FROM event_waits WHERE execution_id = $1 AND $9) \
         UPDATE workflow_executions SET status = $3, result = $4, error = $5, variables = $6, waiting_for = NULL, \
         wake_at = NULL, wake_pending = FALSE, owner = NULL, lease_until = NULL, finished_at = now(), updated_at = now() \
         WHERE id = $1 AND owner = $2 AND status = 'running'",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(owner)
    .bind::<Text, _>(end.status.as_str())
    .bind::<Nullable<Jsonb>, _>(end.result)
    .bind::<Nullable<Text>, _>(end.error)
    .bind::<Jsonb, _>(end.variables)
    .bind::<Array<Text>, _>(keys)
    .bind::<Array<Jsonb>, _>(values)
    .bind::<diesel::sql_types::Bool, _>(end.clear_wait)
    .execute(conn)?;
    Ok(n == 1)
}

#[derive(QueryableByName)]
struct StatusOut {
    #[diesel(sql_type = Text)]
    status: ExecStatus,
}

/// Suspends an execution this owner runs, in one statement that reads `wake_pending`
/// under the row lock: a wake-up that arrived during the run (or `again`) keeps it
/// `running` with its owner, so the caller runs it again at once. Returns the new
/// status, or `None` when the lease was lost.
pub fn suspend_owned(
    conn: &mut PgConnection,
    id: Uuid,
    owner: &str,
    waiting_for: &Json,
    wake_at: Option<DateTime<Utc>>,
    variables: &Json,
    again: bool,
) -> Result<Option<ExecStatus>> {
    let rows: Vec<StatusOut> = crate::db::sql::sql(
        "UPDATE workflow_executions SET \
           status = CASE WHEN wake_pending OR $6 THEN 'running' ELSE 'waiting' END, \
           waiting_for = CASE WHEN wake_pending OR $6 THEN NULL ELSE $3 END, \
           wake_at = CASE WHEN wake_pending OR $6 THEN NULL ELSE $4 END, \
           owner = CASE WHEN wake_pending OR $6 THEN owner ELSE NULL END, \
           lease_until = CASE WHEN wake_pending OR $6 THEN lease_until ELSE NULL END, \
           wake_pending = FALSE, variables = $5, updated_at = now() \
         WHERE id = $1 AND owner = $2 AND status = 'running' RETURNING status",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(owner)
    .bind::<Jsonb, _>(waiting_for)
    .bind::<Nullable<Timestamptz>, _>(wake_at)
    .bind::<Jsonb, _>(variables)
    .bind::<Bool, _>(again)
    .load(conn)?;
    Ok(rows.into_iter().next().map(|r| r.status))
}

/// Makes a waiting execution runnable, or marks a running one to run again
/// (see the module comment). Call with the row locked by [`lock_status`].
pub fn wake_locked(conn: &mut PgConnection, id: Uuid, status: ExecStatus) -> Result<()> {
    wake_locked_claiming(conn, id, status, None).map(|_| ())
}

/// Makes a waiting execution runnable in one statement, claimed for `claim` (owner,
/// lease seconds) when given; then it comes back with its journal, read in the same
/// statement, for the claimer's run. With `deliver` (a journal key and an event), the
/// same statement writes the event into the journal under that key when it made the
/// execution runnable: the publish of an event that ends a delivering wait. Nothing can
/// run the execution before that commits (it was waiting and this statement holds its
/// row), so every run after it finds the event in its journal. `None` when it was not
/// waiting: the caller falls back to [`lock_status`] and [`wake_locked`].
pub fn wake_if_waiting(
    conn: &mut PgConnection,
    id: Uuid,
    claim: Option<(&str, f64)>,
    deliver: Option<(&str, &Json)>,
) -> Result<Option<Option<(ExecRow, Json)>>> {
    let (owner, lease) = match claim {
        Some((o, l)) => (Some(o), l),
        None => (None, 0.0),
    };
    let (key, value) = match deliver {
        Some((k, v)) => (Some(k), Some(v)),
        None => (None, None),
    };
    // The journal as read is the statement's snapshot, without the delivered entry: that
    // is added to it (an entry already there, which no run of a waiting execution can
    // have left, would win as it does in the table).
    let rows: Vec<ExecWithJournal> = crate::db::sql::sql(format!(
        "WITH u AS (UPDATE workflow_executions SET status = 'running', wake_at = NULL, owner = $2, \
         lease_until = CASE WHEN $2::text IS NULL THEN NULL ELSE now() + make_interval(secs => $3) END, \
         runs = runs + 1, updated_at = now() WHERE id = $1 AND status = 'waiting' RETURNING {COLUMNS}), \
         d AS (INSERT INTO journal (execution_id, key, value) SELECT u.id, $4, $5 FROM u \
           WHERE $4::text IS NOT NULL ON CONFLICT DO NOTHING) \
         SELECT u.*, (CASE WHEN $4::text IS NULL OR $2::text IS NULL THEN '{{}}'::jsonb \
             ELSE jsonb_build_object($4::text, $5::jsonb) END) \
           || (SELECT coalesce(jsonb_object_agg(j.key, j.value), '{{}}'::jsonb) FROM journal j \
               WHERE j.execution_id = u.id AND $2::text IS NOT NULL) AS journal FROM u"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Nullable<Text>, _>(owner)
    .bind::<Double, _>(lease)
    .bind::<Nullable<Text>, _>(key)
    .bind::<Nullable<Jsonb>, _>(value)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .next()
        .map(|r| owner.is_some().then_some((r.exec, r.journal))))
}

/// The statement of [`wake_many`], its columns qualified (the update joins its input).
static WAKE_MANY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let qualified: String = COLUMNS
        .split(',')
        .map(|c| format!("e.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WITH i AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::text[], $5::jsonb[]) \
           WITH ORDINALITY AS i(id, claim, lease, key, value, n)), \
         u AS (UPDATE workflow_executions e SET status = 'running', wake_at = NULL, owner = o.claim, \
           lease_until = CASE WHEN o.claim IS NULL THEN NULL ELSE now() + make_interval(secs => o.lease) END, \
           runs = e.runs + 1, updated_at = now() \
           FROM (SELECT * FROM i ORDER BY n) o WHERE e.id = o.id AND e.status = 'waiting' \
           RETURNING {qualified}, o.claim AS claim_, o.key AS key_, o.value AS value_), \
         d AS (INSERT INTO journal (execution_id, key, value) SELECT u.id, u.key_, u.value_ FROM u \
           WHERE u.key_ IS NOT NULL ON CONFLICT DO NOTHING) \
         SELECT u.*, (CASE WHEN u.key_ IS NULL OR u.claim_ IS NULL THEN '{{}}'::jsonb \
             ELSE jsonb_build_object(u.key_, u.value_) END) \
           || (SELECT coalesce(jsonb_object_agg(j.key, j.value), '{{}}'::jsonb) FROM journal j \
               WHERE j.execution_id = u.id AND u.claim_ IS NOT NULL) AS journal FROM u"
    )
});

/// One execution for [`wake_many`]: its id, the claim (owner, lease seconds) when it is
/// to be claimed, and the journal key and event when its wait delivers.
pub struct ToWake<'a> {
    /// The execution.
    pub id: Uuid,
    /// Claimed for this owner and lease when given.
    pub claim: Option<(&'a str, f64)>,
    /// The journal key and value a delivering wait gets.
    pub deliver: Option<(&'a str, &'a Json)>,
}

/// [`wake_if_waiting`] for many executions in one statement. The rows are locked in the
/// order given (sorted by id, as every publisher locks them): the caller's transaction
/// must forbid hash and merge joins (`SET LOCAL`), so that each is found by its primary
/// key, in turn. Returns, per execution made runnable, its row and journal when it was
/// claimed; the executions not returned were not waiting.
pub fn wake_many(
    conn: &mut PgConnection,
    all: &[ToWake],
) -> Result<std::collections::HashMap<Uuid, Option<(ExecRow, Json)>>> {
    let rows: Vec<ExecWithJournal> = crate::db::sql::sql(WAKE_MANY.as_str())
        .bind::<Array<SqlUuid>, _>(all.iter().map(|w| w.id).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(
            all.iter().map(|w| w.claim.map(|c| c.0)).collect::<Vec<_>>(),
        )
        .bind::<Array<Double>, _>(
            all.iter()
                .map(|w| w.claim.map_or(0.0, |c| c.1))
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(
            all.iter()
                .map(|w| w.deliver.map(|d| d.0))
                .collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Jsonb>>, _>(
            all.iter()
                .map(|w| w.deliver.map(|d| d.1))
                .collect::<Vec<_>>(),
        )
        .load(conn)?;
    // A claimed row comes back with its new owner.
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.exec.id,
                r.exec.owner.is_some().then_some((r.exec, r.journal)),
            )
        })
        .collect())
}

/// Like [`wake_locked`]; a waiting execution is also claimed for `claim` (owner, lease
/// seconds) so that the caller runs it next without a trip through the scheduler.
/// Returns true when it was claimed.
pub fn wake_locked_claiming(
    conn: &mut PgConnection,
    id: Uuid,
    status: ExecStatus,
    claim: Option<(&str, f64)>,
) -> Result<bool> {
    match status {
        ExecStatus::Waiting => {
            let (owner, lease) = match claim {
                Some((o, l)) => (Some(o), l),
                None => (None, 0.0),
            };
            crate::db::sql::sql(
                "UPDATE workflow_executions SET status = 'running', wake_at = NULL, owner = $2, \
                 lease_until = CASE WHEN $2::text IS NULL THEN NULL ELSE now() + make_interval(secs => $3) END, \
                 runs = runs + 1, updated_at = now() WHERE id = $1",
            )
            .bind::<SqlUuid, _>(id)
            .bind::<Nullable<Text>, _>(owner)
            .bind::<Double, _>(lease)
            .execute(conn)?;
            Ok(owner.is_some())
        }
        ExecStatus::Running => {
            crate::db::sql::sql("UPDATE workflow_executions SET wake_pending = TRUE WHERE id = $1")
                .bind::<SqlUuid, _>(id)
                .execute(conn)?;
            Ok(false)
        }
        _ => Ok(false),
    }
}

/// What [`resolve_wait`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// The entry was there already, or the execution has ended.
    Nothing,
    /// The execution was woken (made runnable, or marked to run again).
    Woken,
    /// The execution was woken and claimed for the caller, who runs it next.
    Claimed,
}

/// Writes `key = value` into a waiting execution's journal and wakes it (claiming it
/// for `claim` when given and it was waiting).
pub fn resolve_wait(
    conn: &mut PgConnection,
    id: Uuid,
    key: &str,
    value: &Json,
    claim: Option<(&str, f64)>,
) -> Result<Resolved> {
    let Some(status) = lock_status(conn, id)? else {
        return Ok(Resolved::Nothing);
    };
    if status.is_terminal() {
        return Ok(Resolved::Nothing);
    }
    let n = crate::db::sql::sql(
        "INSERT INTO journal (execution_id, key, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(key)
    .bind::<Jsonb, _>(value)
    .execute(conn)?;
    if n == 0 {
        return Ok(Resolved::Nothing);
    }
    Ok(if wake_locked_claiming(conn, id, status, claim)? {
        Resolved::Claimed
    } else {
        Resolved::Woken
    })
}

/// Claims one execution for `owner` now (a message was delivered to it).
pub fn take_over(conn: &mut PgConnection, id: Uuid, owner: &str, lease_secs: f64) -> Result<()> {
    crate::db::sql::sql(
        "UPDATE workflow_executions SET status = 'running', waiting_for = NULL, wake_at = NULL, owner = $2, \
         lease_until = now() + make_interval(secs => $3), runs = runs + 1, updated_at = now() WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(owner)
    .bind::<Double, _>(lease_secs)
    .execute(conn)?;
    Ok(())
}
