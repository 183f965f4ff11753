//! Executions (`workflow_executions`), their journal, steps and transcripts: creation,
//! claiming with leases, suspend/finish, and the wake-up protocol.
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
use diesel::sql_types::{
    Array, Bool, Double, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::db::states::{Direction, ExecKind, ExecStatus, StepKind, StepStatus};
use crate::error::Result;

/// A new execution to insert.
#[derive(Debug, Clone)]
pub struct NewExecution {
    pub id: Uuid,
    pub kind: ExecKind,
    pub bot: String,
    pub script: String,
    pub script_hash: String,
    pub entry: i32,
    pub name: Option<String>,
    pub input: Json,
    pub parent_id: Option<Uuid>,
    pub parent_key: Option<String>,
    pub conversation_id: Option<Uuid>,
    /// Claimed by this owner at once (the caller runs it now), or left for the scheduler.
    pub owner: Option<String>,
}

impl NewExecution {
    /// A conversation or a workflow started from outside (entry 0, no parent), left
    /// for the scheduler unless [`NewExecution::owned_by`] says otherwise.
    pub fn top(
        id: Uuid,
        kind: ExecKind,
        bot: &str,
        (script, script_hash): (String, String),
        name: Option<String>,
        input: Json,
    ) -> NewExecution {
        NewExecution {
            id,
            kind,
            bot: bot.to_string(),
            script,
            script_hash,
            entry: 0,
            name,
            input,
            parent_id: None,
            parent_key: None,
            conversation_id: None,
            owner: None,
        }
    }

    /// A workflow an execution starts with `ORCHESTRATE WORKFLOW`: an entry of the same
    /// script version, in the same conversation, nobody's child.
    pub fn orchestrated(
        id: Uuid,
        starter: &ExecRow,
        name: &str,
        entry: usize,
        input: Json,
    ) -> NewExecution {
        NewExecution {
            id,
            kind: ExecKind::Workflow,
            bot: starter.bot.clone(),
            script: starter.script.clone(),
            script_hash: starter.script_hash.clone(),
            entry: entry as i32,
            name: Some(name.to_string()),
            input,
            parent_id: None,
            parent_key: None,
            conversation_id: starter.conversation(),
            owner: None,
        }
    }

    /// A task delegated by `parent` with `BOT` to `bot`'s `script` (name, hash); its
    /// result goes into the parent's journal under `parent_key`.
    pub fn task(
        id: Uuid,
        parent: &ExecRow,
        parent_key: &str,
        bot: &str,
        (script, script_hash): (String, String),
        task: &str,
        input: serde_json::Map<String, Json>,
    ) -> NewExecution {
        NewExecution {
            id,
            kind: ExecKind::Task,
            bot: bot.to_string(),
            script,
            script_hash,
            entry: 0,
            name: Some(task.to_string()),
            input: Json::Object(input),
            parent_id: Some(parent.id),
            parent_key: Some(parent_key.to_string()),
            conversation_id: parent.conversation_id,
            owner: None,
        }
    }

    /// A branch `label` of a `PARALLEL` in `parent`: an entry of the parent's script
    /// version, whose result goes into the parent's journal under `parent_key`.
    pub fn branch(
        id: Uuid,
        parent: &ExecRow,
        parent_key: &impl std::fmt::Display,
        label: &str,
        entry: usize,
        input: serde_json::Map<String, Json>,
    ) -> NewExecution {
        NewExecution {
            id,
            kind: ExecKind::Branch,
            bot: parent.bot.clone(),
            script: parent.script.clone(),
            script_hash: parent.script_hash.clone(),
            entry: entry as i32,
            name: Some(label.to_string()),
            input: Json::Object(input),
            parent_id: Some(parent.id),
            parent_key: Some(parent_key.to_string()),
            conversation_id: parent.conversation_id,
            owner: None,
        }
    }

    /// The run of an `ON EVENT` handler (an entry of a stored script version) for the
    /// event `event` (its script value).
    #[allow(clippy::too_many_arguments)]
    pub fn handler(
        id: Uuid,
        bot: String,
        script: String,
        script_hash: String,
        entry: i32,
        name: &str,
        event: Json,
        conversation_id: Option<Uuid>,
    ) -> NewExecution {
        NewExecution {
            id,
            kind: ExecKind::Handler,
            bot,
            script,
            script_hash,
            entry,
            name: Some(name.to_string()),
            input: serde_json::json!({ "event": event }),
            parent_id: None,
            parent_key: None,
            conversation_id,
            owner: None,
        }
    }

    /// Claimed by `owner` at its insert (the caller runs it now), or left for any
    /// instance's scheduler (`None`).
    pub fn owned_by(self, owner: Option<String>) -> NewExecution {
        NewExecution { owner, ..self }
    }

    /// The row this insert makes, as a run sees it (without reading it back).
    pub fn as_row(&self, owner: &str) -> ExecRow {
        let now = Utc::now();
        ExecRow {
            id: self.id,
            kind: self.kind,
            bot: self.bot.clone(),
            script: self.script.clone(),
            script_hash: self.script_hash.clone(),
            entry: self.entry,
            name: self.name.clone(),
            status: ExecStatus::Running,
            waiting_for: None,
            input: self.input.clone(),
            variables: self.input.clone(),
            result: None,
            error: None,
            parent_id: self.parent_id,
            parent_key: self.parent_key.clone(),
            conversation_id: self.conversation_id,
            owner: self.owner.clone().or_else(|| Some(owner.to_string())),
            created_at: now,
            updated_at: now,
            finished_at: None,
        }
    }
}

pub fn create(conn: &mut PgConnection, e: &NewExecution, lease_secs: f64) -> Result<()> {
    crate::db::sql::sql(
        "INSERT INTO workflow_executions \
         (id, kind, bot, script, script_hash, entry, name, status, input, variables, parent_id, parent_key, \
          conversation_id, owner, lease_until, runs) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8, $8, $9, $10, $11, $12, \
          CASE WHEN $12::text IS NULL THEN NULL ELSE now() + make_interval(secs => $13) END, \
          CASE WHEN $12::text IS NULL THEN 0 ELSE 1 END)",
    )
    .bind::<SqlUuid, _>(e.id)
    .bind::<Text, _>(e.kind.as_str())
    .bind::<Text, _>(&e.bot)
    .bind::<Text, _>(&e.script)
    .bind::<Text, _>(&e.script_hash)
    .bind::<Int4, _>(e.entry)
    .bind::<Nullable<Text>, _>(e.name.as_deref())
    .bind::<Jsonb, _>(&e.input)
    .bind::<Nullable<SqlUuid>, _>(e.parent_id)
    .bind::<Nullable<Text>, _>(e.parent_key.as_deref())
    .bind::<Nullable<SqlUuid>, _>(e.conversation_id)
    .bind::<Nullable<Text>, _>(e.owner.as_deref())
    .bind::<Double, _>(lease_secs)
    .execute(conn)?;
    Ok(())
}

/// An execution row.
#[derive(QueryableByName, Debug, Clone)]
pub struct ExecRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: ExecKind,
    #[diesel(sql_type = Text)]
    pub bot: String,
    #[diesel(sql_type = Text)]
    pub script: String,
    #[diesel(sql_type = Text)]
    pub script_hash: String,
    #[diesel(sql_type = Int4)]
    pub entry: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = Text)]
    pub status: ExecStatus,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub waiting_for: Option<Json>,
    #[diesel(sql_type = Jsonb)]
    pub input: Json,
    #[diesel(sql_type = Jsonb)]
    pub variables: Json,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub result: Option<Json>,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub parent_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub parent_key: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub conversation_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub owner: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub finished_at: Option<DateTime<Utc>>,
}

impl ExecRow {
    /// The conversation a TALK of this execution goes to (its own id when it has none,
    /// so that its output is still kept and shown).
    pub fn talk_target(&self) -> Uuid {
        self.conversation_id.unwrap_or(self.id)
    }

    /// The conversation this execution belongs to: its own when it is one.
    pub fn conversation(&self) -> Option<Uuid> {
        self.conversation_id
            .or((self.kind == ExecKind::Conversation).then_some(self.id))
    }
}

const COLUMNS: &str = "id, kind, bot, script, script_hash, entry, name, status, waiting_for, input, variables, \
    result, error, parent_id, parent_key, conversation_id, owner, created_at, updated_at, finished_at";

pub fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<ExecRow>> {
    let rows: Vec<ExecRow> = crate::db::sql::sql(format!(
        "SELECT {COLUMNS} FROM workflow_executions WHERE id = $1"
    ))
    .bind::<SqlUuid, _>(id)
    .load(conn)?;
    Ok(rows.into_iter().next())
}

/// Executions of a kind, filtered, newest first.
pub fn list(
    conn: &mut PgConnection,
    kinds: &[ExecKind],
    status: Option<&str>,
    bot: Option<&str>,
    name: Option<&str>,
    limit: i64,
) -> Result<Vec<ExecRow>> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    Ok(diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM workflow_executions WHERE kind = ANY($1) \
         AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR bot = $3) \
         AND ($4::text IS NULL OR name = $4) ORDER BY created_at DESC LIMIT $5"
    ))
    .bind::<Array<Text>, _>(kinds)
    .bind::<Nullable<Text>, _>(status)
    .bind::<Nullable<Text>, _>(bot)
    .bind::<Nullable<Text>, _>(name)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)?)
}

pub fn children(conn: &mut PgConnection, id: Uuid) -> Result<Vec<ExecRow>> {
    Ok(crate::db::sql::sql(format!(
        "SELECT {COLUMNS} FROM workflow_executions WHERE parent_id = $1 ORDER BY created_at"
    ))
    .bind::<SqlUuid, _>(id)
    .load(conn)?)
}

#[derive(QueryableByName)]
struct ExecWithJournal {
    #[diesel(embed)]
    exec: ExecRow,
    #[diesel(sql_type = Jsonb)]
    journal: Json,
}

/// An execution and its whole journal, in one round trip (the start of every run).
pub fn load_for_run(conn: &mut PgConnection, id: Uuid) -> Result<Option<(ExecRow, Json)>> {
    let rows: Vec<ExecWithJournal> = crate::db::sql::sql(format!(
        "SELECT {COLUMNS}, (SELECT coalesce(jsonb_object_agg(j.key, j.value), '{{}}'::jsonb) FROM journal j \
         WHERE j.execution_id = e.id) AS journal FROM workflow_executions e WHERE id = $1"
    ))
    .bind::<SqlUuid, _>(id)
    .load(conn)?;
    Ok(rows.into_iter().next().map(|r| (r.exec, r.journal)))
}

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
    let mut rows: Vec<ExecWithJournal> = crate::db::sql::sql(format!(
        "UPDATE workflow_executions SET owner = $1, lease_until = now() + make_interval(secs => $2), runs = runs + 1 \
         WHERE id IN (SELECT id FROM workflow_executions WHERE status = 'running' \
           AND (lease_until IS NULL OR lease_until < now()) ORDER BY lease_until NULLS FIRST \
           LIMIT $3 FOR UPDATE SKIP LOCKED) {returning}"
    ))
    .bind::<Text, _>(owner)
    .bind::<Double, _>(lease_secs)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .load(conn)?;
    let room = limit - rows.len() as i64;
    if room > 0 {
        let due: Vec<ExecWithJournal> = crate::db::sql::sql(format!(
            "UPDATE workflow_executions SET status = 'running', wake_at = NULL, owner = $1, \
             lease_until = now() + make_interval(secs => $2), runs = runs + 1 \
             WHERE id IN (SELECT id FROM workflow_executions WHERE status = 'waiting' AND wake_at <= now() \
               ORDER BY wake_at LIMIT $3 FOR UPDATE SKIP LOCKED) {returning}"
        ))
        .bind::<Text, _>(owner)
        .bind::<Double, _>(lease_secs)
        .bind::<diesel::sql_types::BigInt, _>(room)
        .load(conn)?;
        rows.extend(due);
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
    pub result: Option<&'a Json>,
    pub error: Option<&'a str>,
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

#[derive(QueryableByName)]
struct StatusRow {
    #[diesel(sql_type = Text)]
    status: ExecStatus,
}

/// Locks an execution row and returns its status.
pub fn lock_status(conn: &mut PgConnection, id: Uuid) -> Result<Option<ExecStatus>> {
    let rows: Vec<StatusRow> =
        crate::db::sql::sql("SELECT status FROM workflow_executions WHERE id = $1 FOR UPDATE")
            .bind::<SqlUuid, _>(id)
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
/// statement, for the claimer's run. `None` when it was not waiting: the caller falls
/// back to [`lock_status`] and [`wake_locked`].
pub fn wake_if_waiting(
    conn: &mut PgConnection,
    id: Uuid,
    claim: Option<(&str, f64)>,
) -> Result<Option<Option<(ExecRow, Json)>>> {
    let (owner, lease) = match claim {
        Some((o, l)) => (Some(o), l),
        None => (None, 0.0),
    };
    let rows: Vec<ExecWithJournal> = crate::db::sql::sql(format!(
        "UPDATE workflow_executions SET status = 'running', wake_at = NULL, owner = $2, \
         lease_until = CASE WHEN $2::text IS NULL THEN NULL ELSE now() + make_interval(secs => $3) END, \
         runs = runs + 1, updated_at = now() WHERE id = $1 AND status = 'waiting' \
         RETURNING {COLUMNS}, (SELECT coalesce(jsonb_object_agg(j.key, j.value), '{{}}'::jsonb) FROM journal j \
         WHERE j.execution_id = workflow_executions.id AND $2::text IS NOT NULL) AS journal"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Nullable<Text>, _>(owner)
    .bind::<Double, _>(lease)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .next()
        .map(|r| owner.is_some().then_some((r.exec, r.journal))))
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

/// Sets the status of an execution that is waiting or failed (operator actions).
pub fn set_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: ExecStatus,
    error: Option<&str>,
) -> Result<()> {
    crate::db::sql::sql(
        "UPDATE workflow_executions SET status = $2, error = COALESCE($3, error), owner = NULL, lease_until = NULL, \
         wake_at = NULL, waiting_for = CASE WHEN $2 = 'running' THEN NULL ELSE waiting_for END, \
         finished_at = CASE WHEN $2 IN ('completed', 'failed', 'cancelled') THEN now() ELSE NULL END, \
         updated_at = now() WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(status.as_str())
    .bind::<Nullable<Text>, _>(error)
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

// ----- steps ------------------------------------------------------------------------

/// A step row as the workflow views show it.
#[derive(QueryableByName, Debug, Clone, serde::Serialize)]
pub struct StepRow {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Text)]
    pub label: String,
    #[diesel(sql_type = Text)]
    pub kind: StepKind,
    #[diesel(sql_type = Text)]
    pub status: StepStatus,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub result: Option<Json>,
    #[diesel(sql_type = Nullable<Text>)]
    pub error: Option<String>,
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub started_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
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

pub fn steps(conn: &mut PgConnection, id: Uuid) -> Result<Vec<StepRow>> {
    Ok(crate::db::sql::sql(
        "SELECT key, label, kind, status, result, error, attempts, started_at, finished_at FROM workflow_steps \
         WHERE execution_id = $1 ORDER BY seq",
    )
    .bind::<SqlUuid, _>(id)
    .load(conn)?)
}

// ----- transcripts ------------------------------------------------------------------

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
pub struct MessageRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub direction: Direction,
    #[diesel(sql_type = Text)]
    pub text: String,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

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

pub fn clear_error(conn: &mut PgConnection, id: Uuid) -> Result<()> {
    crate::db::sql::sql(
        "UPDATE workflow_executions SET error = NULL, finished_at = NULL WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .execute(conn)?;
    Ok(())
}
