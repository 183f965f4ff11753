//! Executions (`workflow_executions`): the row, its creation, reads and operator
//! status changes. Claiming, running and waking them is in `leases`; their journal,
//! steps and transcripts are in `journal`, `steps` and `messages`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Double, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::db::states::{ExecKind, ExecStatus};
use crate::error::Result;

/// A new execution to insert.#[derive(Debug, Clone)]
pub struct NewExecution {
    /// The execution's id: a UUID v7 (ids sort by creation), but for a conversation,
    /// whose id is its capability, a random UUID v4.
    pub id: Uuid,
    /// What it is.
    pub kind: ExecKind,
    /// The bot whose script it runs.
    pub bot: String,
    /// The script's name.
    pub script: String,
    /// The script version it is pinned to.
    pub script_hash: String,
    /// The entry point of the script it runs (0 is the whole file).
    pub entry: i32,
    /// Its name (workflow, task, branch label, event).
    pub name: Option<String>,
    /// What it starts with (its first variables).
    pub input: Json,
    /// The execution waiting for its result, if any.
    pub parent_id: Option<Uuid>,
    /// The parent's journal key its result goes to.
    pub parent_key: Option<String>,
    /// The conversation it belongs to.
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

/// Counts `n` more executions in the tree whose root is `root`; the tree's new size (0
/// when there is no such root).
pub fn grow_tree(conn: &mut PgConnection, root: Uuid, n: i32) -> Result<i32> {
    #[derive(QueryableByName)]
    struct Size {
        #[diesel(sql_type = Int4)]
        tree_size: i32,
    }
    let rows: Vec<Size> = crate::db::sql::sql(
        "UPDATE workflow_executions SET tree_size = tree_size + $2 WHERE id = $1 RETURNING tree_size",
    )
    .bind::<SqlUuid, _>(root)
    .bind::<Int4, _>(n)
    .load(conn)?;
    Ok(rows.first().map_or(0, |r| r.tree_size))
}

/// The size of the tree whose root is `root` (0 when there is no such root).
pub fn tree_size(conn: &mut PgConnection, root: Uuid) -> Result<i32> {
    #[derive(QueryableByName)]
    struct Size {
        #[diesel(sql_type = Int4)]
        tree_size: i32,
    }
    let rows: Vec<Size> =
        crate::db::sql::sql("SELECT tree_size FROM workflow_executions WHERE id = $1")
            .bind::<SqlUuid, _>(root)
            .load(conn)?;
    Ok(rows.first().map_or(0, |r| r.tree_size))
}

/// How many ancestors execution `id` has (0 for a top-level one), counting up to `cap`.
pub fn depth(conn: &mut PgConnection, id: Uuid, cap: i32) -> Result<i32> {
    #[derive(QueryableByName)]
    struct Depth {
        #[diesel(sql_type = Int4)]
        d: i32,
    }
    let rows: Vec<Depth> = crate::db::sql::sql(
        "WITH RECURSIVE up AS ( \
           SELECT parent_id, 0 AS d FROM workflow_executions WHERE id = $1 \
           UNION ALL \
           SELECT e.parent_id, up.d + 1 FROM workflow_executions e JOIN up ON e.id = up.parent_id \
           WHERE up.d < $2) \
         SELECT coalesce(max(d), 0)::int4 AS d FROM up WHERE parent_id IS NULL OR d >= $2",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Int4, _>(cap)
    .load(conn)?;
    Ok(rows.first().map_or(0, |r| r.d))
}

/// Inserts a new execution, claimed for its owner with a lease of `lease_secs` when it has one.
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
    /// The execution's id.
    pub id: Uuid,
    #[diesel(sql_type = Text)]
    /// What it is.
    pub kind: ExecKind,
    #[diesel(sql_type = Text)]
    /// The bot whose script it runs.
    pub bot: String,
    #[diesel(sql_type = Text)]
    /// The script's name.
    pub script: String,
    #[diesel(sql_type = Text)]
    /// The script version it is pinned to.
    pub script_hash: String,
    #[diesel(sql_type = Int4)]
    /// The entry point it runs.
    pub entry: i32,
    #[diesel(sql_type = Nullable<Text>)]
    /// Its name (workflow, task, branch label, event).
    pub name: Option<String>,
    #[diesel(sql_type = Text)]
    /// Where it is.
    pub status: ExecStatus,
    #[diesel(sql_type = Nullable<Jsonb>)]
    /// What it waits for (a [`WaitingFor`](crate::db::states::WaitingFor)) while waiting.
    pub waiting_for: Option<Json>,
    #[diesel(sql_type = Jsonb)]
    /// What it started with.
    pub input: Json,
    #[diesel(sql_type = Jsonb)]
    /// Its variables after its last run.
    pub variables: Json,
    #[diesel(sql_type = Nullable<Jsonb>)]
    /// Its result, once completed.
    pub result: Option<Json>,
    #[diesel(sql_type = Nullable<Text>)]
    /// Its error (`bot/script.bas:line:col: message`), once failed.
    pub error: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    /// The execution waiting for its result, if any.
    pub parent_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    /// The parent's journal key its result goes to.
    pub parent_key: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    /// The conversation it belongs to.
    pub conversation_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    /// The instance holding its lease, while it runs.
    pub owner: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    /// When it was created.
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    /// When it ended.
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

/// The columns of [`ExecRow`], in its order.
pub(crate) const COLUMNS: &str = "id, kind, bot, script, script_hash, entry, name, status, waiting_for, input, variables, \
    result, error, parent_id, parent_key, conversation_id, owner, created_at, updated_at, finished_at";

/// One execution by id.
pub fn get(conn: &mut PgConnection, id: Uuid) -> Result<Option<ExecRow>> {
    let rows: Vec<ExecRow> = crate::db::sql::sql(format!(
        "SELECT {COLUMNS} FROM workflow_executions WHERE id = $1"
    ))
    .bind::<SqlUuid, _>(id)
    .load(conn)?;
    Ok(rows.into_iter().next())
}

/// Filters of [`list`].
#[derive(Debug, Clone, Default)]
pub struct ListFilter<'a> {
    /// Only this status.
    pub status: Option<ExecStatus>,
    /// Only this bot's.
    pub bot: Option<&'a str>,
    /// Only those of this name.
    pub name: Option<&'a str>,
    /// Only those older than this one (the cursor of the previous page: ids are UUID v7,
    /// so their order is the order of creation).
    pub after: Option<Uuid>,
    /// Only those newer than this one (the cursor of a page back towards the newest).
    pub before: Option<Uuid>,
    /// Only those created at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only those created before this time.
    pub until: Option<DateTime<Utc>>,
}

/// The smallest UUID v7 of a millisecond: the ids of executions created from `t` on
/// are at least this one, those created before are smaller. Time filters become id
/// bounds, so they ride on the same indexes as the order of the list.
pub fn v7_floor(t: DateTime<Utc>) -> Uuid {
    let ms = t.timestamp_millis().max(0) as u64;
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    b[6] = 0x70;
    b[8] = 0x80;
    Uuid::from_bytes(b)
}

/// Executions of a kind, filtered, newest first (by id), at most `limit`. Not for
/// conversations: their ids are random (v4), so their order is not that of creation.
/// With `before`, the page just newer than that id (still newest first).
///
/// Planned afresh with its values (see `db::sql`): only the filters given are in the
/// statement, so PostgreSQL walks the index of the one that narrows it (status, bot,
/// or the primary key for the order) and stops after `limit` rows, however many
/// executions the table holds.
pub fn list(
    conn: &mut PgConnection,
    kinds: &[ExecKind],
    filter: &ListFilter,
    limit: i64,
) -> Result<Vec<ExecRow>> {
    use diesel::sql_types::BigInt;
    let kinds: Vec<String> = kinds.iter().map(|k| k.as_str().to_string()).collect();
    let mut clauses = vec!["kind = ANY($1)".to_string()];
    let mut texts: Vec<String> = Vec::new();
    let mut ids: Vec<Uuid> = Vec::new();
    // Text filters are $2…, id bounds after them; numbered as they are pushed.
    let push_text = |col: &str, v: &str, clauses: &mut Vec<String>, texts: &mut Vec<String>| {
        texts.push(v.to_string());
        clauses.push(format!("{col} = ${}", 1 + texts.len()));
    };
    if let Some(st) = filter.status {
        push_text("status", st.as_str(), &mut clauses, &mut texts);
    }
    if let Some(b) = filter.bot {
        push_text("bot", b, &mut clauses, &mut texts);
    }
    if let Some(n) = filter.name {
        push_text("name", n, &mut clauses, &mut texts);
    }
    let mut bounds: Vec<(&str, Uuid)> = Vec::new();
    if let Some(a) = filter.after {
        bounds.push(("<", a));
    }
    if let Some(b) = filter.before {
        bounds.push((">", b));
    }
    if let Some(t) = filter.since {
        bounds.push((">=", v7_floor(t)));
    }
    if let Some(t) = filter.until {
        bounds.push(("<", v7_floor(t)));
    }
    for (op, id) in bounds {
        ids.push(id);
        clauses.push(format!("id {op} ${}", 1 + texts.len() + ids.len()));
    }
    let limit_at = 2 + texts.len() + ids.len();
    let order = if filter.before.is_some() {
        "ASC"
    } else {
        "DESC"
    };
    let text = format!(
        "SELECT {COLUMNS} FROM workflow_executions WHERE {} ORDER BY id {order} LIMIT ${limit_at}",
        clauses.join(" AND ")
    );
    let mut q = diesel::sql_query(text)
        .into_boxed::<diesel::pg::Pg>()
        .bind::<Array<Text>, _>(kinds);
    for t in texts {
        q = q.bind::<Text, _>(t);
    }
    for id in ids {
        q = q.bind::<SqlUuid, _>(id);
    }
    let mut rows: Vec<ExecRow> = q.bind::<BigInt, _>(limit).load(conn)?;
    if filter.before.is_some() {
        rows.reverse();
    }
    Ok(rows)
}

/// The bot and name (or script) of each of these executions, in one query.
pub fn names(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<(Uuid, String, String)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = Text)]
        bot: String,
        #[diesel(sql_type = Text)]
        name: String,
    }
    let rows: Vec<Row> = crate::db::sql::sql(
        "SELECT id, bot, coalesce(name, script) AS name FROM workflow_executions WHERE id = ANY($1)",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r.bot, r.name)).collect())
}

/// How many top-level workflows there are in each status (the literal `kind` lets the
/// planner use the partial index `executions_by_status`, whatever the plan).
pub fn workflow_counts(conn: &mut PgConnection) -> Result<Vec<(String, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<Row> = crate::db::sql::sql(
        "SELECT status, count(*) AS n FROM workflow_executions WHERE kind = 'workflow' GROUP BY status",
    )
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.status, r.n)).collect())
}

/// How many executions wait, by what they wait for (`waiting_for.kind`), and the
/// soonest deadline among them (a timer's, or its approval's) where there is one.
pub fn waiting_counts(conn: &mut PgConnection) -> Result<Vec<(String, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        what: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<Row> = crate::db::sql::sql(
        "SELECT coalesce(waiting_for->>'kind', 'unknown') AS what, count(*) AS n \
         FROM workflow_executions WHERE status = 'waiting' GROUP BY 1 ORDER BY 2 DESC",
    )
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.what, r.n)).collect())
}

/// The newest `updated_at` among `id` and every execution under it, and how many they
/// are: what changes when anything in the tree moves (the detail page's live updates).
pub fn tree_mark(conn: &mut PgConnection, id: Uuid) -> Result<Option<(DateTime<Utc>, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Nullable<Timestamptz>)]
        at: Option<DateTime<Utc>>,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rows: Vec<Row> = crate::db::sql::sql(
        "WITH RECURSIVE t AS (SELECT id, updated_at FROM workflow_executions WHERE id = $1 \
         UNION ALL SELECT e.id, e.updated_at FROM workflow_executions e JOIN t ON e.parent_id = t.id) \
         SELECT max(updated_at) AS at, count(*) AS n FROM t",
    )
    .bind::<SqlUuid, _>(id)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .next()
        .and_then(|r| r.at.map(|at| (at, r.n))))
}

/// The executions it started (children, branches), oldest first.
pub fn children(conn: &mut PgConnection, id: Uuid) -> Result<Vec<ExecRow>> {
    Ok(crate::db::sql::sql(format!(
        "SELECT {COLUMNS} FROM workflow_executions WHERE parent_id = $1 ORDER BY created_at"
    ))
    .bind::<SqlUuid, _>(id)
    .load(conn)?)
}

/// An execution with its whole journal (a JSON object), as the claims read them.
#[derive(QueryableByName)]
pub(crate) struct ExecWithJournal {
    #[diesel(embed)]
    pub(crate) exec: ExecRow,
    #[diesel(sql_type = Jsonb)]
    pub(crate) journal: Json,
}

/// An execution with its journal and its count of runs (which every wake-up of a
/// waiting execution increments: while it waits, the count names that wait).
#[derive(QueryableByName)]
struct ExecWithRuns {
    #[diesel(embed)]
    exec: ExecRow,
    #[diesel(sql_type = Jsonb)]
    journal: Json,
    #[diesel(sql_type = Int4)]
    runs: i32,
}

/// An execution, its whole journal and its count of runs, read without a lock (a
/// message delivery that commits only if the execution still waits in that same wait).
pub fn load_with_runs(conn: &mut PgConnection, id: Uuid) -> Result<Option<(ExecRow, Json, i32)>> {
    let rows: Vec<ExecWithRuns> = crate::db::sql::sql(format!(
        "SELECT {COLUMNS}, (SELECT coalesce(jsonb_object_agg(j.key, j.value), '{{}}'::jsonb) FROM journal j \
         WHERE j.execution_id = e.id) AS journal, runs FROM workflow_executions e WHERE id = $1"
    ))
    .bind::<SqlUuid, _>(id)
    .load(conn)?;
    Ok(rows.into_iter().next().map(|r| (r.exec, r.journal, r.runs)))
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

/// Every execution under `id` (children, branches, their children, …) with `id` itself
/// first, parents before their children.
pub fn tree(conn: &mut PgConnection, id: Uuid) -> Result<Vec<ExecRow>> {
    let cols = COLUMNS
        .split(", ")
        .map(|c| format!("e.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(crate::db::sql::sql(format!(
        "WITH RECURSIVE t AS ( \
           SELECT {COLUMNS}, 0 AS depth FROM workflow_executions WHERE id = $1 \
           UNION ALL \
           SELECT {cols}, t.depth + 1 FROM workflow_executions e JOIN t ON e.parent_id = t.id) \
         SELECT {COLUMNS} FROM t ORDER BY depth, created_at"
    ))
    .bind::<SqlUuid, _>(id)
    .load(conn)?)
}

/// Ends an execution as cancelled (operator cancel): nothing it waited for is awaited
/// any more, and a run in progress loses its commit (that checks `status = 'running'`).
pub fn cancel(conn: &mut PgConnection, id: Uuid) -> Result<()> {
    crate::db::sql::sql(
        "UPDATE workflow_executions SET status = 'cancelled', owner = NULL, lease_until = NULL, \
         wake_at = NULL, waiting_for = NULL, finished_at = now(), updated_at = now() WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .execute(conn)?;
    Ok(())
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

/// Forgets an execution's error and end (operator retry).
pub fn clear_error(conn: &mut PgConnection, id: Uuid) -> Result<()> {
    crate::db::sql::sql(
        "UPDATE workflow_executions SET error = NULL, finished_at = NULL WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .execute(conn)?;
    Ok(())
}

/// Moves an execution to another version of its script (operator retry).
pub fn set_script(conn: &mut PgConnection, id: Uuid, hash: &str, entry: i32) -> Result<()> {
    crate::db::sql::sql(
        "UPDATE workflow_executions SET script_hash = $2, entry = $3 WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(hash)
    .bind::<Int4, _>(entry)
    .execute(conn)?;
    Ok(())
}
