//! One run of an execution and its commit.
//!
//! A run is a replay from the top inside one database transaction: the journal is
//! loaded, the script runs against a [`DurableHost`] whose keywords act in that same
//! transaction, and the commit appends the new journal entries and records how the run
//! ended. A crash anywhere before the commit leaves no trace; after it, everything the
//! run did is durable together.

use std::collections::HashMap;

use chrono::Utc;
use serde_json::Value as Json;
use uuid::Uuid;

use super::claims::Claimed;
use super::group::{InlineTree, Nesting};
use super::host::{DurableHost, RunEffects};
use super::journal::{failure_marker, Journal, Op};
use super::{Metrics, Runtime};
use crate::basic::{run_entry, RunOutcome};
use crate::db::executions::{ExecRow, NewExecution};
use crate::db::states::{Direction, ExecStatus};
use crate::db::{approvals, events, executions};
use crate::db::{leases, messages, steps};
use crate::error::{Error, Result};

/// What a run (or a series of runs) of an execution produced.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The status after the last run (`Running` when another instance has it now).
    pub status: ExecStatus,
    /// TALKs delivered by these runs, in order.
    pub talks: Vec<String>,
    /// What it waits for, when waiting.
    pub waiting_for: Option<Json>,
    /// The result, when the execution completed.
    pub result: Option<Json>,
}

/// A group-committed run's outcome, and its new TALKs (for the caller's report).
pub(super) struct Grouped {
    pub(super) outcome: super::group::Outcome,
    pub(super) talks: Vec<String>,
}

/// A run slot (see `Runtime::permits`).
pub type Slot = tokio::sync::OwnedSemaphorePermit;

/// How a run gets its execution.
enum Start {
    /// Read it (and its journal) in the run's transaction.
    Load,
    /// Insert it in the run's transaction.
    Fresh(Box<NewExecution>),
    /// Already read by the claim that gave it to this instance. Safe to use: whatever
    /// happens to it meanwhile either sets `wake_pending` (the run is repeated) or takes
    /// it away (the commit's lease check fails and the run is repeated from a fresh read).
    Loaded(Box<ExecRow>, HashMap<String, Json>),
}

enum Once {
    Done {
        report: RunReport,
        again: bool,
        /// The commit made work runnable elsewhere: tell the other instances.
        announce: bool,
        /// Executions claimed for this thread (a delegated child, a woken parent).
        run_next: Vec<Uuid>,
        /// Branches claimed for this instance, each to run on its own thread.
        run_beside: Vec<Claimed>,
    },
    /// Another instance holds the execution (our lease lapsed) or it is not runnable.
    NotOurs,
}

/// Removes the execution from the renewal set when the run ends, however it ends.
struct RunningGuard<'a>(&'a Runtime, Uuid);

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut r) = self.0.running.lock() {
            r.remove(&self.1);
        }
    }
}

/// An execution's result: its RETURN value, else its TALKs joined by newlines.
fn result_or_talks(result: Option<Json>, talks: &[String]) -> Json {
    result.unwrap_or_else(|| {
        if talks.is_empty() {
            Json::Null
        } else {
            Json::String(talks.join("\n"))
        }
    })
}

/// `bot/script.bas:line:col: message`, as a failed execution records it.
fn failure_message(exec: &ExecRow, e: &crate::basic::RuntimeError) -> String {
    format!(
        "{}/{}.bas:{}:{}: {}",
        exec.bot, exec.script, e.span.line, e.span.col, e.message
    )
}

fn retryable(e: &Error) -> bool {
    matches!(e, Error::Conflict(_) | Error::Database(_))
}

impl Runtime {
    /// Runs an execution this instance has claimed until it suspends, ends, or is lost.
    /// Blocking: call from a blocking thread.
    pub fn run_owned(&self, id: Uuid) -> Result<RunReport> {
        self.run_from(id, Start::Load)
    }

    /// Inserts a new execution owned by this instance and runs it, the insert sharing
    /// the first run's transaction (one commit instead of two). The execution is
    /// visible to others once that run has committed. `slot` is the run slot it holds,
    /// if any (see [`Runtime::run_claimed`]).
    pub fn run_new(&self, new: NewExecution, mut slot: Option<Slot>) -> Result<RunReport> {
        if new.parent_id.is_none() && new.conversation_id.is_none() {
            let row = new.as_row(&self.owner);
            if let Some(report) = self.grouped(row, HashMap::new(), false, &mut slot)? {
                return Ok(report);
            }
        }
        let id = new.id;
        self.run_from(id, Start::Fresh(Box::new(new)))
    }

    /// Runs an execution this instance has claimed (the scheduler's entry point): through
    /// the group commit when its script allows it, else in a transaction of its own.
    /// The run slot it holds is given back as soon as the run's work is done: a run that
    /// only awaits the group commit no longer counts against the slots, so the commits
    /// of more runs can share a transaction.
    pub fn run_claimed(
        &self,
        exec: ExecRow,
        journal: Json,
        mut slot: Option<Slot>,
    ) -> Result<RunReport> {
        let id = exec.id;
        let journal: HashMap<String, Json> = match journal {
            Json::Object(m) => m.into_iter().collect(),
            _ => HashMap::new(),
        };
        // A script known to need its own transaction goes there at once.
        let needs_own = self
            .cache
            .get(&exec.script_hash)
            .is_some_and(|script| !self.group.eligible(&script) && !self.group.optimistic(&script));
        let mine = exec.status == ExecStatus::Running
            && exec.owner.as_deref() == Some(self.owner.as_str());
        if !needs_own && mine && exec.parent_id.is_none() && exec.conversation_id.is_none() {
            if let Some(report) = self.grouped(exec.clone(), journal.clone(), true, &mut slot)? {
                return Ok(report);
            }
        }
        self.run_from(id, Start::Loaded(Box::new(exec), journal))
    }

    fn grouped(
        &self,
        exec: ExecRow,
        journal: HashMap<String, Json>,
        existing: bool,
        slot: &mut Option<Slot>,
    ) -> Result<Option<RunReport>> {
        let mut conn = self.conn()?;
        let script = self.compiled(&mut conn, &exec.script_hash)?;
        // A claimed run (woken, due) of a script that may use the database is tried
        // optimistically; a new one runs from the top, where it usually would.
        let optimistic = !self.group.eligible(&script);
        if optimistic && !(existing && self.group.optimistic(&script)) {
            return Ok(None);
        }
        let mut tree = InlineTree::new(exec.id, existing);
        let run = self.run_grouped(
            &mut conn,
            &exec,
            &script,
            journal,
            existing,
            &mut tree,
            Nesting::default(),
            optimistic,
        )?;
        drop(conn);
        let Some(Grouped { outcome, talks }) = run else {
            return Ok(None);
        };
        // A new conversation now waiting for its first message is remembered for it
        // (a row inserted by the group commit has had one run).
        let first = (!existing)
            .then(|| super::ops::Conversation::after(&outcome, HashMap::new(), 1))
            .flatten();
        let report = self.commit_grouped(outcome, talks, tree, slot)?;
        if let (Some(_), Some(c)) = (&report, first) {
            self.conversations.keep(exec.id, c);
        }
        Ok(report)
    }

    /// Hands a group-committed run's outcome (with the children it ran inline, in
    /// `tree`) to the committer and reports it once durable; `None` when the committer
    /// refused it (the caller runs it the transactional way).
    pub(super) fn commit_grouped(
        &self,
        mut outcome: super::group::Outcome,
        talks: Vec<String>,
        tree: InlineTree,
        slot: &mut Option<Slot>,
    ) -> Result<Option<RunReport>> {
        let id = outcome.row.id;
        outcome.children = tree.children;
        outcome.tree_grown = tree.grown;
        let status = outcome.status;
        let waiting_for = outcome.waiting_for.clone();
        let row_result = outcome.row.result.clone();
        let children: Vec<(Uuid, ExecStatus)> = outcome
            .children
            .iter()
            .map(|c| (c.row.id, c.status))
            .collect();
        // The work is done; waiting for the commit holds no run slot.
        if let Err(e) = self.group.commit(outcome, slot.take()) {
            tracing::debug!(execution = %id, "group commit failed, running on its own: {e}");
            return Ok(None);
        }
        Metrics::inc(&self.metrics.group_committed);
        for (child, st) in [(id, status)].into_iter().chain(children) {
            match st {
                ExecStatus::Completed => Metrics::inc(&self.metrics.completed),
                ExecStatus::Failed => Metrics::inc(&self.metrics.failed),
                // Stored runnable (a timer already due): for the scheduler.
                ExecStatus::Running => self.bus.wake.notify_one(),
                _ => Metrics::inc(&self.metrics.suspended),
            }
            if st.is_terminal() && child != id {
                let _ = self.bus.finished.send(child);
            }
        }
        let completed = (status == ExecStatus::Completed)
            .then(|| row_result.clone())
            .flatten();
        if let Some(r) = &completed {
            self.remember_completed(id, r.clone());
        }
        if status.is_terminal() {
            let _ = self.bus.finished.send(id);
        }
        Ok(Some(RunReport {
            status,
            talks,
            waiting_for,
            result: completed,
        }))
    }

    /// One run of `exec` for the group commit: its outcome (for the committer), or
    /// `None` when the run needs a transaction of its own after all (it registered an
    /// event wait, a timer of a claimed row is already due, a child's script uses the
    /// database, …). The children it starts run inline, into `tree`. `optimistic`: the
    /// script may use the database while it runs, and the run is given up as soon as it
    /// would (see `DurableHost::optimistic`); one that fails is given up too, for its
    /// own transaction to end it (and remove what it may have left registered).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn run_grouped(
        &self,
        conn: &mut diesel::PgConnection,
        exec: &ExecRow,
        script: &crate::basic::CompiledScript,
        journal: HashMap<String, Json>,
        existing: bool,
        tree: &mut InlineTree,
        nesting: Nesting,
        optimistic: bool,
    ) -> Result<Option<Grouped>> {
        Metrics::inc(&self.metrics.runs);
        let journal = Journal::new(journal, self.config.max_journal_value_bytes);
        let mut host = DurableHost::new(self, conn, exec, journal)
            .inline(tree, nesting)
            .optimistic(optimistic);
        let (outcome, vars) = run_entry(
            &self.engine,
            script,
            exec.entry as usize,
            &exec.input,
            &mut host,
        );
        if let RunOutcome::Failed(e) = &outcome {
            host.fail_open_steps(&e.message);
        }
        let effects = host.finish();
        let given_up = optimistic && matches!(outcome, RunOutcome::Failed(_));
        if optimistic {
            let ok = !(effects.needs_transaction() || given_up);
            self.group.tried(&script.hash, ok);
            if !ok {
                Metrics::inc(&self.metrics.optimistic_given_up);
            }
        }
        if given_up {
            return Ok(None);
        }
        if effects.needs_transaction() {
            if let Some(e) = effects.abort {
                // A database error of the run (reading a script, a tree size): the caller
                // retries on its own transaction, which reports it if it persists.
                tracing::debug!(execution = %exec.id, "grouped run abandoned: {e}");
            }
            return Ok(None);
        }
        let RunEffects {
            journal,
            new_talks: talks,
            all_talks,
            result,
            wait,
            steps,
            ..
        } = effects;
        let mut row = exec.clone();
        row.variables = vars;
        // New rows are written unowned; a claimed row is updated only while we own it.
        row.owner = existing.then(|| self.owner.clone());
        let (status, waiting_for, wake_at) = match outcome {
            RunOutcome::Completed => {
                row.result = Some(result_or_talks(result, &all_talks));
                (ExecStatus::Completed, None, None)
            }
            RunOutcome::Failed(e) => {
                row.error = Some(failure_message(exec, &e));
                (ExecStatus::Failed, None, None)
            }
            RunOutcome::Suspended => match wait {
                Some(w) if w.event.is_none() => {
                    if existing && w.wake_at.is_some_and(|t| t <= Utc::now()) {
                        return Ok(None);
                    }
                    if w.wake_at.is_some_and(|t| t <= Utc::now()) {
                        // Already due: stored runnable, for the scheduler.
                        (ExecStatus::Running, None, None)
                    } else {
                        (
                            ExecStatus::Waiting,
                            Some(w.waiting_for.to_json()),
                            w.wake_at,
                        )
                    }
                }
                _ => return Ok(None),
            },
        };
        row.status = status;
        row.waiting_for = waiting_for.clone();
        Ok(Some(Grouped {
            outcome: super::group::Outcome {
                existing,
                delivered: None,
                row,
                status,
                waiting_for,
                wake_at,
                journal: journal.entries,
                steps,
                talks: talks.clone(),
                children: Vec::new(),
                tree_grown: 0,
            },
            talks,
        }))
    }

    /// Runs `id`, then the executions its runs handed over to this thread: a delegated
    /// child it created, or a parent its end woke (both claimed in the same commit), so
    /// that a chain of delegations needs no trip through the scheduler. Returns the
    /// report of `id`'s last run.
    fn run_from(&self, id: Uuid, start: Start) -> Result<RunReport> {
        let mut conn = self.conn()?;
        let mut queue = std::collections::VecDeque::from([(id, start)]);
        let mut first: Option<RunReport> = None;
        while let Some((cur, start)) = queue.pop_front() {
            match self.run_until_settled(&mut conn, cur, start) {
                Ok((report, next)) => {
                    queue.extend(next.into_iter().map(|n| (n, Start::Load)));
                    if cur == id {
                        let talks = first.take().map(|f| f.talks).unwrap_or_default();
                        first = Some(RunReport {
                            talks: [talks, report.talks].concat(),
                            ..report
                        });
                    }
                }
                Err(e) if cur == id => return Err(e),
                // A handed-over execution keeps its lease; the scheduler retries it when
                // the lease lapses.
                Err(e) => tracing::warn!(execution = %cur, "handed-over run failed: {e}"),
            }
        }
        first.ok_or_else(|| Error::Internal(format!("execution {id} produced no report")))
    }

    /// Runs one execution until it suspends for real, ends, or is lost.
    fn run_until_settled(
        &self,
        conn: &mut crate::db::PgConn,
        id: Uuid,
        mut start: Start,
    ) -> Result<(RunReport, Vec<Uuid>)> {
        if let Ok(mut r) = self.running.lock() {
            r.insert(id);
        }
        let _guard = RunningGuard(self, id);
        let mut talks = Vec::new();
        let mut next = Vec::new();
        let mut failures = 0;
        loop {
            match self.run_once(&mut *conn, id, &start) {
                Ok(Once::Done {
                    report,
                    again,
                    run_next,
                    run_beside,
                    ..
                }) => {
                    start = Start::Load;
                    next.extend(run_next);
                    self.start_beside(run_beside);
                    talks.extend(report.talks);
                    if !again {
                        return Ok((RunReport { talks, ..report }, next));
                    }
                }
                Ok(Once::NotOurs) => {
                    let report = RunReport {
                        status: ExecStatus::Running,
                        talks,
                        waiting_for: None,
                        result: None,
                    };
                    return Ok((report, next));
                }
                Err(e) if retryable(&e) && failures < 3 => {
                    failures += 1;
                    // A lost connection is not tried again: the retry takes a fresh one
                    // (the pool checks the old one as it comes back, and drops it).
                    if matches!(&e, Error::Database(d) if crate::db::connection_lost(d)) {
                        *conn = self.conn()?;
                    }
                    // A claim-time snapshot may be what went stale: read afresh.
                    if let Start::Loaded(..) = start {
                        start = Start::Load;
                    }
                    Metrics::inc(&self.metrics.aborted);
                    tracing::debug!(execution = %id, "run abandoned, retrying: {e}");
                    std::thread::sleep(std::time::Duration::from_millis(5 * failures));
                }
                Err(e) => {
                    Metrics::inc(&self.metrics.aborted);
                    tracing::warn!(execution = %id, "run abandoned: {e}");
                    return Err(e);
                }
            }
        }
    }

    /// Gives a parent its child's result; a waiting parent is claimed to run next here.
    fn wake_parent(
        &self,
        conn: &mut diesel::PgConnection,
        parent: Uuid,
        key: &str,
        value: &Json,
        run_next: &mut Vec<Uuid>,
        notify: &mut bool,
    ) -> Result<()> {
        let claim = Some((self.owner.as_str(), self.config.lease_secs));
        match leases::resolve_wait(conn, parent, key, value, claim)? {
            leases::Resolved::Claimed => run_next.push(parent),
            leases::Resolved::Woken => *notify = true,
            leases::Resolved::Nothing => {}
        }
        Ok(())
    }

    /// Runs claimed executions (branches, what an event or a decision woke), each on a
    /// blocking thread of its own with its permit.
    pub(super) fn start_beside(&self, beside: Vec<Claimed>) {
        if beside.is_empty() {
            return;
        }
        let Some(me) = self.me.upgrade() else {
            // No handle on ourselves (not started as a server): the scheduler takes them
            // over when their leases lapse.
            return;
        };
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for claimed in beside {
            let rt = me.clone();
            handle.spawn_blocking(move || {
                let id = claimed.id;
                let ran = match claimed.loaded {
                    Some(loaded) => {
                        let (exec, journal) = *loaded;
                        // The claim set `updated_at` in the transaction that woke it:
                        // from there to this run is the wake-up's latency.
                        let waited = (chrono::Utc::now() - exec.updated_at)
                            .num_microseconds()
                            .unwrap_or(0);
                        rt.metrics.wake.record(waited.max(0) as f64 / 1e6);
                        rt.run_claimed(exec, journal, Some(claimed.permit))
                    }
                    None => {
                        let _slot = claimed.permit;
                        rt.run_owned(id)
                    }
                };
                match ran {
                    Ok(report) if claimed.announce_end && report.status.is_terminal() => {
                        rt.announce_done(id)
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(execution = %id, "run ended with: {e}"),
                }
            });
        }
    }

    fn run_once(&self, conn: &mut diesel::PgConnection, id: Uuid, start: &Start) -> Result<Once> {
        use diesel::Connection;
        conn.transaction::<Once, Error, _>(|conn| {
            let max = self.config.max_journal_value_bytes;
            let (exec, journal) = match start {
                Start::Fresh(new) => {
                    executions::create(conn, new, self.config.lease_secs)?;
                    (new.as_row(&self.owner), Journal::new(HashMap::new(), max))
                }
                Start::Loaded(exec, journal) => {
                    ((**exec).clone(), Journal::new(journal.clone(), max))
                }
                Start::Load => {
                    let Some((exec, journal)) = executions::load_for_run(conn, id)? else {
                        return Err(Error::NotFound(format!("no execution {id}")));
                    };
                    (exec, Journal::from_json(journal, max))
                }
            };
            if exec.status != ExecStatus::Running
                || exec.owner.as_deref() != Some(self.owner.as_str())
            {
                return Ok(Once::NotOurs);
            }
            Metrics::inc(&self.metrics.runs);
            let script = self.compiled(conn, &exec.script_hash)?;
            let mut host = DurableHost::new(self, conn, &exec, journal);
            let (outcome, vars) = run_entry(
                &self.engine,
                &script,
                exec.entry as usize,
                &exec.input,
                &mut host,
            );
            if let RunOutcome::Failed(e) = &outcome {
                host.fail_open_steps(&e.message);
            }
            let effects = host.finish();
            // A wait still to remove when the run ends (it may have been cleared already).
            let used_event_wait = effects.event_wait_left();
            let RunEffects {
                journal,
                new_talks,
                all_talks,
                result,
                wait,
                abort,
                steps: step_rows,
                mut run_next,
                run_beside,
                unowned_spawned,
                ..
            } = effects;
            if let Some(e) = abort {
                return Err(e);
            }
            let talk_target = exec.talk_target();
            let new_entries = &journal.entries;

            // A run that ends the execution writes its journal with the end (one statement).
            if matches!(outcome, RunOutcome::Suspended) {
                crate::db::journal::append_journal(conn, id, new_entries)?;
            }
            steps::upsert_steps(conn, id, &step_rows)?;
            messages::add_messages(conn, talk_target, id, Direction::Bot, &new_talks)?;
            // Work that any instance may pick up (a workflow it started): tell the
            // others at commit.
            let mut notify = unowned_spawned || journal.recorded(Op::Workflow);
            let mut completed_result = None;
            let (status, again, waiting_for) = match outcome {
                RunOutcome::Completed => {
                    let result = result_or_talks(result, &all_talks);
                    let end = leases::Finish {
                        status: ExecStatus::Completed,
                        result: Some(&result),
                        error: None,
                        variables: &vars,
                        journal: new_entries,
                        clear_wait: used_event_wait,
                    };
                    if !leases::finish_owned(conn, id, &self.owner, &end)? {
                        return Err(Error::Conflict(format!("execution {id} was taken over")));
                    }
                    if let (Some(parent), Some(key)) = (exec.parent_id, &exec.parent_key) {
                        self.wake_parent(conn, parent, key, &result, &mut run_next, &mut notify)?;
                    }
                    Metrics::inc(&self.metrics.completed);
                    completed_result = Some(result);
                    (ExecStatus::Completed, false, None)
                }
                RunOutcome::Failed(e) => {
                    let msg = failure_message(&exec, &e);
                    let end = leases::Finish {
                        status: ExecStatus::Failed,
                        result: None,
                        error: Some(&msg),
                        variables: &vars,
                        journal: new_entries,
                        clear_wait: true,
                    };
                    if !leases::finish_owned(conn, id, &self.owner, &end)? {
                        return Err(Error::Conflict(format!("execution {id} was taken over")));
                    }
                    approvals::cancel_for(conn, id)?;
                    if let (Some(parent), Some(key)) = (exec.parent_id, &exec.parent_key) {
                        let marker = failure_marker(&format!("bot '{}' failed: {msg}", exec.bot));
                        self.wake_parent(conn, parent, key, &marker, &mut run_next, &mut notify)?;
                    }
                    Metrics::inc(&self.metrics.failed);
                    (ExecStatus::Failed, false, None)
                }
                RunOutcome::Suspended => {
                    let Some(wait) = wait else {
                        return Err(Error::Internal(format!(
                            "execution {id} suspended without saying what for"
                        )));
                    };
                    let mut again = wait.wake_at.is_some_and(|t| t <= Utc::now());
                    if let Some(ev) = &wait.event {
                        again |= events::register_wait(
                            conn, id, &ev.key, &ev.names, ev.cursor, ev.deliver,
                        )?;
                    }
                    let waiting_for = wait.waiting_for.to_json();
                    let Some(status) = leases::suspend_owned(
                        conn,
                        id,
                        &self.owner,
                        &waiting_for,
                        wait.wake_at,
                        &vars,
                        again,
                    )?
                    else {
                        return Err(Error::Conflict(format!("execution {id} was taken over")));
                    };
                    Metrics::inc(&self.metrics.suspended);
                    let again = status == ExecStatus::Running;
                    (status, again, Some(waiting_for))
                }
            };
            if notify {
                events::notify_wake(conn, "")?;
            }
            let published = journal.recorded(Op::Publish) || journal.recorded(Op::Approval);
            Ok(Once::Done {
                report: RunReport {
                    status,
                    talks: new_talks,
                    waiting_for,
                    result: completed_result,
                },
                again,
                announce: notify || published,
                run_next,
                run_beside,
            })
        })
        .inspect(|once| {
            if let Once::Done {
                report, announce, ..
            } = once
            {
                // Children, parents or handlers may have become runnable elsewhere than
                // on this thread (what this run claimed for itself runs without a claim).
                if *announce {
                    self.bus.wake.notify_one();
                    self.announce();
                }
                if let Some(r) = &report.result {
                    self.remember_completed(id, r.clone());
                }
                if report.status.is_terminal() {
                    let _ = self.bus.finished.send(id);
                }
            }
        })
    }
}
