//! Group commit: the first run of a new execution whose script touches the database only
//! at commit (no memory, events or approvals while it runs) needs no transaction of its
//! own. Its outcome — the execution row in its final state, its journal, its steps and
//! its TALKs — goes to one committer thread, which writes the outcomes of every run
//! waiting at that moment with four multi-row statements in one transaction, then
//! answers each caller. Nothing is acknowledged before that commit, so a run reported
//! done is in the journal after a crash; a run that crashes before it simply never
//! happened (the caller got no answer).
//!
//! Children (`BOT`, `PARALLEL`) of such a run are run inline, on the same thread, when
//! their scripts qualify too ([`InlineTree`]): each child's outcome is written beside its
//! parent's, in the same transaction, and the parent goes on with the child's result at
//! once, as a replay after the child's end would. A delegated workflow thus costs one
//! run per execution and a share of one commit, like a top-level run, instead of a
//! transaction per child start, per child end and per parent resumption. A child that
//! waits (a timer) is written waiting, and its parent waiting for it, exactly as the
//! transactional path leaves them; from there on that path takes over.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::basic::keywords::effects::Effect;
use crate::basic::CompiledScript;
use crate::db::executions::ExecRow;
use crate::db::states::ExecStatus;
use crate::db::steps::StepRow;
use crate::db::PgPool;
use crate::error::{Error, Result};

/// True when no entry of the script calls a host function that uses the database while
/// the script runs (as the functions declare it, see `basic::keywords::effects`).
pub fn commits_only(script: &CompiledScript) -> bool {
    script
        .entries
        .iter()
        .all(|e| !e.effects.uses(Effect::Database))
}

/// The outcome of one run, to be written by the committer.
pub struct Outcome {
    /// True for an execution already in the table (claimed by this instance): its row
    /// is updated only while this instance still holds it, else the outcome is refused.
    pub existing: bool,
    /// A user message delivered to a waiting conversation, read without a lock: its row
    /// is updated only while it still waits in the wait it was read in (its count of
    /// runs unchanged), else the outcome is refused. The message's transcript line is
    /// written with the outcome (its journal entry is among the outcome's entries).
    pub delivered: Option<Delivery>,
    /// The row as the run leaves it (variables, result, error).
    pub row: ExecRow,
    /// The status the run ends in.
    pub status: ExecStatus,
    /// What it waits for, when waiting.
    pub waiting_for: Option<Json>,
    /// When its timer is due, when waiting on one.
    pub wake_at: Option<DateTime<Utc>>,
    /// The run's new journal entries.
    pub journal: Vec<(String, Json)>,
    /// The steps it changed.
    pub steps: Vec<StepRow>,
    /// Its new TALKs.
    pub talks: Vec<String>,
    /// The children it ran inline (and theirs), written with it or not at all.
    pub children: Vec<Outcome>,
    /// Executions it added to its workflow tree (its row's `tree_size` grows by this).
    pub tree_grown: i32,
}

/// A message delivered to a waiting conversation (see [`Outcome::delivered`]).
pub struct Delivery {
    /// The conversation's count of runs when it was read.
    pub runs: i32,
    /// The user's message.
    pub text: String,
}

/// The executions a group-committed run started and ran inline, and the count that
/// bounds its workflow tree (`BOTSERVER_MAX_TREE`).
pub struct InlineTree {
    /// The root of the tree (the group-committed execution).
    pub root: Uuid,
    /// The root's `tree_size` before this run: 1 for a new root; read when first needed
    /// for a claimed one.
    pub base: Option<i32>,
    /// Executions this run added.
    pub grown: i32,
    /// The outcomes of every child run inline, at any depth.
    pub children: Vec<Outcome>,
}

impl InlineTree {
    /// The tree of a run of `root` (`existing`: a row already in the table).
    pub fn new(root: Uuid, existing: bool) -> InlineTree {
        InlineTree {
            root,
            base: (!existing).then_some(1),
            grown: 0,
            children: Vec::new(),
        }
    }
}

/// How deep children may run inline, nested on one thread's stack; deeper ones make the
/// run fall back to its own transaction (where the delegation depth limit applies).
pub const INLINE_DEPTH: usize = 4;

/// Where an inline run sits: its depth below the group-committed root, and whether it
/// is (under) a `PARALLEL` branch, whose siblings it would delay if it reached outside.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nesting {
    /// 0 for the root.
    pub depth: usize,
    /// Runs inside a branch of a `PARALLEL`.
    pub in_branch: bool,
}

struct Pending {
    outcome: Outcome,
    reply: mpsc::Sender<Result<()>>,
}

/// How the optimistic runs of one script version fared lately (see
/// [`GroupCommit::optimistic`]).
#[derive(Default)]
struct Luck {
    /// +1 per run that needed no transaction, -4 per run given up, within [-16, 8].
    score: i32,
    /// Runs not tried since the score fell too low.
    skipped: u32,
}

/// The committer: a thread with one connection, writing batches of outcomes.
pub struct GroupCommit {
    tx: Mutex<mpsc::Sender<Pending>>,
    pure: Mutex<HashMap<String, bool>>,
    luck: Mutex<HashMap<String, Luck>>,
    /// Outcomes handed over and not yet answered (a run awaiting the commit holds no run
    /// slot, so a graceful shutdown waits for this to reach zero as well).
    in_flight: std::sync::atomic::AtomicUsize,
}

impl GroupCommit {
    /// Starts the committer thread over `pool`.
    pub fn start(pool: PgPool) -> GroupCommit {
        let (tx, rx) = mpsc::channel::<Pending>();
        std::thread::spawn(move || committer(pool, rx));
        GroupCommit {
            tx: Mutex::new(tx),
            pure: Mutex::new(HashMap::new()),
            luck: Mutex::new(HashMap::new()),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Whether runs of this script version can go through the group commit.
    pub fn eligible(&self, script: &CompiledScript) -> bool {
        if let Ok(mut m) = self.pure.lock() {
            return *m
                .entry(script.hash.clone())
                .or_insert_with(|| commits_only(script));
        }
        false
    }

    /// Whether a claimed run of this script version, which may use the database while
    /// it runs, is worth trying through the group commit anyway (an optimistic run,
    /// given up at the first keyword that would use the database, before it has
    /// written anything). Never for a script that reaches outside the server (HTTP,
    /// mail, PRINT), which a run given up would repeat. A script whose runs keep being
    /// given up is tried again only once in 64 runs.
    pub fn optimistic(&self, script: &CompiledScript) -> bool {
        if script
            .entries
            .iter()
            .any(|e| e.effects.uses(Effect::Outside))
        {
            return false;
        }
        let Ok(mut all) = self.luck.lock() else {
            return false;
        };
        let luck = all.entry(script.hash.clone()).or_default();
        if luck.score > -8 {
            return true;
        }
        luck.skipped += 1;
        if luck.skipped >= 64 {
            luck.skipped = 0;
            return true;
        }
        false
    }

    /// Records how an optimistic run of a script version went: `ok` when it needed no
    /// transaction of its own.
    pub fn tried(&self, hash: &str, ok: bool) {
        if let Ok(mut all) = self.luck.lock() {
            let luck = all.entry(hash.to_string()).or_default();
            luck.score = if ok {
                (luck.score + 1).min(8)
            } else {
                (luck.score - 4).max(-16)
            };
        }
    }

    /// True when no outcome awaits its commit.
    pub fn idle(&self) -> bool {
        self.in_flight.load(std::sync::atomic::Ordering::SeqCst) == 0
    }

    /// Hands an outcome to the committer and waits until it is durable. The run's slot,
    /// if given, is released once the outcome counts as in flight (so that a graceful
    /// shutdown, which takes every slot and then waits for [`GroupCommit::idle`], never
    /// misses it).
    pub fn commit(
        &self,
        outcome: Outcome,
        slot: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Result<()> {
        use std::sync::atomic::Ordering;
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        drop(slot);
        let answered = self.commit_and_wait(outcome);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        answered
    }

    fn commit_and_wait(&self, outcome: Outcome) -> Result<()> {
        let (reply, wait) = mpsc::channel();
        let sent = self
            .tx
            .lock()
            .map_err(|_| Error::Internal("group commit poisoned".into()))?
            .send(Pending { outcome, reply });
        if sent.is_err() {
            return Err(Error::Internal("the group committer has stopped".into()));
        }
        wait.recv()
            .map_err(|_| Error::Internal("the group committer has stopped".into()))?
    }
}

/// The next batch for a committer: waits for one item, then takes what else has come
/// in meanwhile, up to `max` in all. `None` once every sender is gone.
pub(super) fn next_batch<T>(rx: &mpsc::Receiver<T>, max: usize) -> Option<Vec<T>> {
    let mut batch = vec![rx.recv().ok()?];
    while batch.len() < max {
        match rx.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
    }
    Some(batch)
}

fn committer(pool: PgPool, rx: mpsc::Receiver<Pending>) {
    let mut conn = None;
    while let Some(batch) = next_batch(&rx, 512) {
        if conn.is_none() {
            conn = pool.get().ok();
        }
        let result = match conn.as_mut() {
            Some(c) => write_batch(c, &batch),
            None => Err(Error::Internal(
                "no database connection for the group commit".into(),
            )),
        };
        if result.is_err() {
            // A broken connection is replaced for the next batch.
            conn = None;
        }
        for (i, p) in batch.into_iter().enumerate() {
            let r = match &result {
                Ok(written) if written.get(i).copied().unwrap_or(false) => Ok(()),
                Ok(_) => Err(Error::Conflict(
                    "the execution is no longer held by this instance".into(),
                )),
                Err(e) => Err(Error::Conflict(format!("group commit failed: {e}"))),
            };
            let _ = p.reply.send(r);
        }
    }
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// Writes a batch; returns, per outcome, whether it was written.
fn write_batch(conn: &mut PgConnection, batch: &[Pending]) -> Result<Vec<bool>> {
    conn.transaction::<_, Error, _>(|conn| {
        // Every row a batch touches is found by its primary key, a handful per batch.
        // The planner, from statistics taken when the table was small, chose instead to
        // hash the batch and scan the whole table for it: with a few hundred batches a
        // second over a table of conversations rewritten at every message (dead rows
        // included), those scans were most of PostgreSQL's time. Within this
        // transaction only, a lookup by key is the one plan it may pick.
        conn.batch_execute(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off",
        )?;
        let now = Utc::now();
        let ended = |o: &Outcome| o.status.is_terminal();
        // Claimed executions first: only those still held by this instance (and not
        // woken meanwhile, which needs a real run again) are updated.
        //
        // The status each row must still have comes in as a column of the batch (`was`),
        // not as a constant: with `e.status = 'running'` the planner, whose statistics
        // are taken while few executions run, drove the update from the partial index
        // of running executions and hashed every one of them per batch (100,000 after a
        // restart: ~110 ms a batch instead of ~15). As a join clause it cannot pick that
        // index, and each row is found by its primary key.
        let existing: Vec<&Outcome> = batch.iter().map(|p| &p.outcome).filter(|o| o.existing).collect();
        let mut updated = std::collections::HashSet::new();
        if !existing.is_empty() {
            let ids: Vec<IdRow> = crate::db::sql::sql(
                "UPDATE workflow_executions e SET status = u.status, waiting_for = u.waiting_for, wake_at = u.wake_at, \
                 variables = u.variables, result = u.result, error = u.error, finished_at = u.finished_at, \
                 owner = NULL, lease_until = NULL, tree_size = e.tree_size + u.grown, updated_at = now() \
                 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::timestamptz[], $6::jsonb[], $7::jsonb[], \
                   $8::text[], $9::timestamptz[], $10::int4[], $11::text[]) \
                   AS u(id, owner, status, waiting_for, wake_at, variables, result, error, finished_at, grown, was) \
                 WHERE e.id = u.id AND e.owner = u.owner AND e.status = u.was AND NOT e.wake_pending RETURNING e.id",
            )
            .bind::<Array<SqlUuid>, _>(existing.iter().map(|o| o.row.id).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(existing.iter().map(|o| o.row.owner.clone().unwrap_or_default()).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(existing.iter().map(|o| o.status.as_str()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Jsonb>>, _>(existing.iter().map(|o| o.waiting_for.as_ref()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Timestamptz>>, _>(existing.iter().map(|o| o.wake_at).collect::<Vec<_>>())
            .bind::<Array<Jsonb>, _>(existing.iter().map(|o| &o.row.variables).collect::<Vec<_>>())
            .bind::<Array<Nullable<Jsonb>>, _>(existing.iter().map(|o| o.row.result.as_ref()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Text>>, _>(existing.iter().map(|o| o.row.error.as_deref()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Timestamptz>>, _>(
                existing.iter().map(|o| ended(o).then_some(now)).collect::<Vec<_>>(),
            )
            .bind::<Array<Int4>, _>(existing.iter().map(|o| o.tree_grown).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(vec!["running"; existing.len()])
            .load(conn)?;
            updated.extend(ids.into_iter().map(|r| r.id));
        }
        // Deliveries: only to conversations still waiting in the wait they were read in.
        // Two messages to one conversation in one batch: the first is tried, the other
        // refused (its caller delivers it the transactional way, after this commit).
        let mut once = std::collections::HashSet::new();
        let delivered: Vec<(usize, &Outcome, &Delivery)> = batch
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.outcome.delivered.as_ref().map(|d| (i, &p.outcome, d)))
            .filter(|(_, o, _)| once.insert(o.row.id))
            .collect();
        let mut accepted = std::collections::HashSet::new();
        if !delivered.is_empty() {
            let ids: Vec<IdRow> = crate::db::sql::sql(
                "UPDATE workflow_executions e SET status = u.status, waiting_for = u.waiting_for, wake_at = u.wake_at, \
                 variables = u.variables, result = u.result, error = u.error, finished_at = u.finished_at, \
                 runs = e.runs + 1, tree_size = e.tree_size + u.grown, updated_at = now() \
                 FROM unnest($1::uuid[], $2::int4[], $3::text[], $4::jsonb[], $5::timestamptz[], $6::jsonb[], $7::jsonb[], \
                   $8::text[], $9::timestamptz[], $10::int4[], $11::text[]) \
                   AS u(id, runs, status, waiting_for, wake_at, variables, result, error, finished_at, grown, was) \
                 WHERE e.id = u.id AND e.status = u.was AND e.runs = u.runs RETURNING e.id",
            )
            .bind::<Array<SqlUuid>, _>(delivered.iter().map(|(_, o, _)| o.row.id).collect::<Vec<_>>())
            .bind::<Array<Int4>, _>(delivered.iter().map(|(_, _, d)| d.runs).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(delivered.iter().map(|(_, o, _)| o.status.as_str()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Jsonb>>, _>(delivered.iter().map(|(_, o, _)| o.waiting_for.as_ref()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Timestamptz>>, _>(delivered.iter().map(|(_, o, _)| o.wake_at).collect::<Vec<_>>())
            .bind::<Array<Jsonb>, _>(delivered.iter().map(|(_, o, _)| &o.row.variables).collect::<Vec<_>>())
            .bind::<Array<Nullable<Jsonb>>, _>(delivered.iter().map(|(_, o, _)| o.row.result.as_ref()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Text>>, _>(delivered.iter().map(|(_, o, _)| o.row.error.as_deref()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Timestamptz>>, _>(
                delivered.iter().map(|(_, o, _)| ended(o).then_some(now)).collect::<Vec<_>>(),
            )
            .bind::<Array<Int4>, _>(delivered.iter().map(|(_, o, _)| o.tree_grown).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(vec!["waiting"; delivered.len()])
            .load(conn)?;
            let ids: std::collections::HashSet<Uuid> = ids.into_iter().map(|r| r.id).collect();
            // The user's lines first, so that they come before the bot's answers.
            let lines: Vec<(Uuid, &str)> = delivered
                .iter()
                .filter(|(_, o, _)| ids.contains(&o.row.id))
                .map(|(_, o, d)| (o.row.id, d.text.as_str()))
                .collect();
            accepted.extend(
                delivered
                    .iter()
                    .filter(|(_, o, _)| ids.contains(&o.row.id))
                    .map(|(i, _, _)| *i),
            );
            if !lines.is_empty() {
                crate::db::sql::sql(
                    "INSERT INTO messages (conversation_id, execution_id, direction, text) \
                     SELECT c, c, 'user', t FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS u(c, t, n) ORDER BY n",
                )
                .bind::<Array<SqlUuid>, _>(lines.iter().map(|(c, _)| *c).collect::<Vec<_>>())
                .bind::<Array<Text>, _>(lines.iter().map(|(_, t)| *t).collect::<Vec<_>>())
                .execute(conn)?;
            }
        }
        let written: Vec<bool> = batch
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let o = &p.outcome;
                if o.delivered.is_some() {
                    accepted.contains(&i)
                } else {
                    !o.existing || updated.contains(&o.row.id)
                }
            })
            .collect();
        // The written outcomes and the children they ran inline (those of a refused
        // outcome are not written either: its run is done again).
        let mut rows: Vec<&Outcome> = Vec::new();
        for (p, w) in batch.iter().zip(&written) {
            if *w {
                rows.push(&p.outcome);
                rows.extend(p.outcome.children.iter());
            }
        }
        let new_rows: Vec<&Outcome> = rows
            .iter()
            .copied()
            .filter(|o| !o.existing && o.delivered.is_none())
            .collect();
        if !new_rows.is_empty() {
            insert_new(conn, &new_rows, now)?;
        }
        write_children(conn, &rows)?;
        Ok(written)
    })
}

fn insert_new(conn: &mut PgConnection, rows: &[&Outcome], now: DateTime<Utc>) -> Result<()> {
    let ended = |o: &Outcome| o.status.is_terminal();
    {
        crate::db::sql::sql(
            "INSERT INTO workflow_executions (id, kind, bot, script, script_hash, entry, name, status, waiting_for, \
             wake_at, input, variables, result, error, finished_at, parent_id, parent_key, conversation_id, tree_size, runs) \
             SELECT *, 1 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int4[], $7::text[], \
               $8::text[], $9::jsonb[], $10::timestamptz[], $11::jsonb[], $12::jsonb[], $13::jsonb[], $14::text[], \
               $15::timestamptz[], $16::uuid[], $17::text[], $18::uuid[], $19::int4[])",
        )
        .bind::<Array<SqlUuid>, _>(rows.iter().map(|o| o.row.id).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|o| o.row.kind.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|o| o.row.bot.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|o| o.row.script.as_str()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|o| o.row.script_hash.as_str()).collect::<Vec<_>>())
        .bind::<Array<Int4>, _>(rows.iter().map(|o| o.row.entry).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|o| o.row.name.as_deref()).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(rows.iter().map(|o| o.status.as_str()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Jsonb>>, _>(rows.iter().map(|o| o.waiting_for.as_ref()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Timestamptz>>, _>(rows.iter().map(|o| o.wake_at).collect::<Vec<_>>())
        .bind::<Array<Jsonb>, _>(rows.iter().map(|o| &o.row.input).collect::<Vec<_>>())
        .bind::<Array<Jsonb>, _>(rows.iter().map(|o| &o.row.variables).collect::<Vec<_>>())
        .bind::<Array<Nullable<Jsonb>>, _>(rows.iter().map(|o| o.row.result.as_ref()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|o| o.row.error.as_deref()).collect::<Vec<_>>())
        .bind::<Array<Nullable<Timestamptz>>, _>(
            rows.iter().map(|o| ended(o).then_some(now)).collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<SqlUuid>>, _>(rows.iter().map(|o| o.row.parent_id).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|o| o.row.parent_key.as_deref()).collect::<Vec<_>>())
        .bind::<Array<Nullable<SqlUuid>>, _>(rows.iter().map(|o| o.row.conversation_id).collect::<Vec<_>>())
        .bind::<Array<Int4>, _>(rows.iter().map(|o| 1 + o.tree_grown).collect::<Vec<_>>())
        .execute(conn)?;
    }
    Ok(())
}

/// Journal entries, steps and TALKs of the written outcomes.
fn write_children(conn: &mut PgConnection, rows: &[&Outcome]) -> Result<()> {
    {
        let mut j_ids = Vec::new();
        let mut j_keys = Vec::new();
        let mut j_values = Vec::new();
        for o in rows {
            for (k, v) in &o.journal {
                j_ids.push(o.row.id);
                j_keys.push(k.as_str());
                j_values.push(v);
            }
        }
        if !j_ids.is_empty() {
            crate::db::sql::sql(
                "INSERT INTO journal (execution_id, key, value) SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[])",
            )
            .bind::<Array<SqlUuid>, _>(j_ids)
            .bind::<Array<Text>, _>(j_keys)
            .bind::<Array<Jsonb>, _>(j_values)
            .execute(conn)?;
        }

        let steps: Vec<(Uuid, &StepRow)> = rows
            .iter()
            .flat_map(|o| o.steps.iter().map(move |s| (o.row.id, s)))
            .collect();
        if !steps.is_empty() {
            crate::db::sql::sql(
                "INSERT INTO workflow_steps (execution_id, key, label, kind, status, result, error, attempts, started_at, finished_at) \
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], \
                   $8::int4[], $9::timestamptz[], $10::timestamptz[]) \
                 ON CONFLICT (execution_id, key) DO UPDATE SET kind = EXCLUDED.kind, status = EXCLUDED.status, \
                 result = EXCLUDED.result, error = EXCLUDED.error, attempts = EXCLUDED.attempts, finished_at = EXCLUDED.finished_at",
            )
            .bind::<Array<SqlUuid>, _>(steps.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(steps.iter().map(|(_, s)| s.key.as_str()).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(steps.iter().map(|(_, s)| s.label.as_str()).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(steps.iter().map(|(_, s)| s.kind.as_str()).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(steps.iter().map(|(_, s)| s.status.as_str()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Jsonb>>, _>(steps.iter().map(|(_, s)| s.result.as_ref()).collect::<Vec<_>>())
            .bind::<Array<Nullable<Text>>, _>(steps.iter().map(|(_, s)| s.error.as_deref()).collect::<Vec<_>>())
            .bind::<Array<Int4>, _>(steps.iter().map(|(_, s)| s.attempts).collect::<Vec<_>>())
            .bind::<Array<Timestamptz>, _>(steps.iter().map(|(_, s)| s.started_at).collect::<Vec<_>>())
            .bind::<Array<Nullable<Timestamptz>>, _>(steps.iter().map(|(_, s)| s.finished_at).collect::<Vec<_>>())
            .execute(conn)?;
        }

        // A TALK goes to the execution's conversation, or is kept with the execution.
        let talks: Vec<(Uuid, Uuid, &str)> = rows
            .iter()
            .flat_map(|o| {
                o.talks
                    .iter()
                    .map(move |t| (o.row.talk_target(), o.row.id, t.as_str()))
            })
            .collect();
        if !talks.is_empty() {
            crate::db::sql::sql(
                "INSERT INTO messages (conversation_id, execution_id, direction, text) \
                 SELECT c, e, 'bot', t FROM unnest($1::uuid[], $2::uuid[], $3::text[]) WITH ORDINALITY AS u(c, e, t, n) ORDER BY n",
            )
            .bind::<Array<SqlUuid>, _>(talks.iter().map(|(c, _, _)| *c).collect::<Vec<_>>())
            .bind::<Array<SqlUuid>, _>(talks.iter().map(|(_, e, _)| *e).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(talks.iter().map(|(_, _, t)| *t).collect::<Vec<_>>())
            .execute(conn)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::commits_only;
    use crate::basic::engine::{new_engine, Limits};

    fn eligible(source: &str) -> bool {
        let engine = new_engine(&Limits::default());
        match crate::basic::compile(&engine, source, &Limits::default()) {
            Ok(script) => commits_only(&script),
            Err(d) => panic!("does not compile: {d}"),
        }
    }

    #[test]
    fn only_scripts_without_mid_run_database_use_share_the_commit() {
        assert!(eligible(
            "STEP 1: x = x + 1\nSTEP 2: TALK NOW()\nWAIT 1\nRETURN x\n"
        ));
        // Children run inline when their own scripts qualify (decided as they start).
        assert!(eligible("STEP 1: BOT \"worker\" \"noop\"\n"));
        assert!(eligible(
            "PARALLEL\n  BRANCH A: BOT \"w\" \"a\"\n  BRANCH B: x = 1\nEND PARALLEL\n"
        ));
        assert!(!eligible("x = GET BOT MEMORY \"k\"\n"));
        assert!(!eligible("WAIT FOR EVENT \"e\"\n"));
        // An entry other than the first (a handler) counts too.
        assert!(!eligible(
            "TALK 1\nON EVENT \"e\"\n  SET BOT MEMORY \"k\", 1\nEND ON\n"
        ));
    }
}
