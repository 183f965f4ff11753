//! The durable host: the [`Host`] of a run inside the server. Every keyword looks in
//! the execution's [`Journal`] first (README, How it works); only when its entry is missing does it
//! act, inside the run's database transaction, and record the result. A keyword that
//! must wait records what for and suspends the run.
//!
//! The keywords are split by family as `basic/keywords/` is (`conversation`, `builtins`,
//! `memory`, `workflow`, `events`); this file holds what they share: the journal, the
//! steps in progress, suspending, and the [`RunEffects`] a run hands to its commit.

mod builtins;
mod conversation;
mod data;
mod events;
mod http;
mod mail;
mod memory;
mod workflow;

pub use workflow::Decision;

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde_json::Value as Json;
use uuid::Uuid;

use super::journal::{Journal, Journaled, Key, NewEntries, Op, Stamp, StepKey};
use super::Runtime;
use crate::basic::context::{
    ApprovalRequest, DataCall, EventWait, Host, HostError, HostResult, HttpCall, MailCall, StepSpec,
};
use crate::db::executions::ExecRow;
use crate::db::states::{StepKind, StepStatus, WaitingFor};
use crate::db::steps::StepRow;
use crate::error::Error;
use crate::workflow::claims::Claimed;
use crate::workflow::group::{InlineTree, Nesting};

/// What a suspended run waits for.
#[derive(Debug, Clone)]
pub struct Wait {
    /// What for.
    pub waiting_for: WaitingFor,
    /// When a timer (or a timeout) ends the wait.
    pub wake_at: Option<DateTime<Utc>>,
    /// A `WAIT FOR EVENT` to register at the commit.
    pub event: Option<EventRegistration>,
}

/// A `WAIT FOR EVENT` to register: its journal key, its names and the event id it has
/// read up to.
#[derive(Debug, Clone)]
pub struct EventRegistration {
    /// The wait's journal key.
    pub key: String,
    /// The event names it waits for.
    pub names: Vec<String>,
    /// The newest event id it has read.
    pub cursor: i64,
    /// The publisher that ends it writes its event into the journal under `key` (one
    /// name, no `WHERE`: the first event published after the wait is the one).
    pub deliver: bool,
}

/// Everything one run did that its commit must write or act on, in one value.
#[derive(Debug, Default)]
pub struct RunEffects {
    /// The journal entries this run added.
    pub journal: NewEntries,
    /// TALKs not delivered before (this run's new messages).
    pub new_talks: Vec<String>,
    /// Every TALK of the execution so far, replayed or new (a task's default result).
    pub all_talks: Vec<String>,
    /// The value of a top-level `RETURN`.
    pub result: Option<Json>,
    /// Why the run suspended, when it did.
    pub wait: Option<Wait>,
    /// A database or conflict error: the run is abandoned and retried, not failed.
    pub abort: Option<Error>,
    /// Step rows changed by this run (the latest state of each), written at commit.
    pub steps: Vec<StepRow>,
    /// True when this run registered or used a `WAIT FOR EVENT`.
    pub used_event_wait: bool,
    /// This run already removed the execution's registered wait.
    pub wait_cleared: bool,
    /// Children claimed for this instance, to run on this thread after the commit.
    pub run_next: Vec<Uuid>,
    /// Children claimed for this instance, to run on threads of their own (branches,
    /// what a publish woke or started).
    pub run_beside: Vec<Claimed>,
    /// Some execution became runnable without a claim: any instance may pick it up.
    pub unowned_spawned: bool,
    /// A group-committed run met what it cannot do without a transaction of its own (a
    /// child whose script uses the database, nesting too deep): it is done again there.
    pub needs_own: bool,
}

impl RunEffects {
    /// True when the run used the database beyond what a group commit writes.
    pub fn needs_transaction(&self) -> bool {
        self.abort.is_some()
            || self.needs_own
            || self.used_event_wait
            || self.unowned_spawned
            || !self.run_next.is_empty()
            || !self.run_beside.is_empty()
    }

    /// True when a registered event wait is left to remove when the execution ends.
    pub fn event_wait_left(&self) -> bool {
        self.used_event_wait && !self.wait_cleared
    }
}

struct ActiveStep {
    label: String,
    key: StepKey,
    tries: u32,
    backoff_secs: f64,
    kind: StepKind,
    started_at: DateTime<Utc>,
    /// Its begin entry is not journaled yet: a step that ends in the run it began in
    /// needs none (its end says it all); one that waits or fails gets it then.
    begin_pending: bool,
}

/// The host of one run of one execution.
pub struct DurableHost<'a> {
    rt: &'a Runtime,
    conn: &'a mut PgConnection,
    exec: &'a ExecRow,
    journal: Journal,
    out: RunEffects,
    steps: Vec<ActiveStep>,
    now: DateTime<Utc>,
    /// Bytes of `TALK` output so far in the execution (replayed and new).
    talk_bytes: usize,
    /// Events this run published (not replayed ones).
    published: usize,
    /// In a group-committed run: the tree its children run inline into, and where this
    /// run sits in it. `None` in a run with a transaction of its own.
    inline: Option<(&'a mut InlineTree, Nesting)>,
    /// A group-committed run of a script whose keywords may use the database (see
    /// [`DurableHost::optimistic`]): such a keyword gives the run up unless the journal
    /// answers it.
    optimistic: bool,
}

impl<'a> DurableHost<'a> {
    /// The host of a run of `exec` over its journal, acting through `conn` (the run's
    /// transaction).
    pub fn new(
        rt: &'a Runtime,
        conn: &'a mut PgConnection,
        exec: &'a ExecRow,
        journal: Journal,
    ) -> Self {
        DurableHost {
            rt,
            conn,
            exec,
            journal,
            out: RunEffects::default(),
            steps: Vec::new(),
            now: Utc::now(),
            talk_bytes: 0,
            published: 0,
            inline: None,
            optimistic: false,
        }
    }

    /// The host of a group-committed run: its children run inline into `tree`.
    pub fn inline(self, tree: &'a mut InlineTree, nesting: Nesting) -> Self {
        DurableHost {
            inline: Some((tree, nesting)),
            ..self
        }
    }

    /// A group-committed run although the script may use the database while it runs
    /// (memory, events, approvals): tried when a run is likely to need none — a run
    /// woken with its event already in its journal replays its `WAIT FOR EVENT` from
    /// there. The first keyword that would use the database gives the run up (see
    /// [`DurableHost::in_transaction`]) before it has written anything.
    pub fn optimistic(self, optimistic: bool) -> Self {
        DurableHost { optimistic, ..self }
    }

    /// Before a keyword uses the database: an optimistic run is given up here, to be done
    /// again in a transaction of its own.
    fn in_transaction(&mut self, what: &str) -> HostResult<()> {
        if self.optimistic {
            return self.needs_own(&format!("{what} uses the database"));
        }
        Ok(())
    }

    /// Gives up a group-committed run: it is done again in a transaction of its own.
    fn needs_own<T>(&mut self, why: &str) -> HostResult<T> {
        tracing::trace!(execution = %self.exec.id, "grouped run needs a transaction: {why}");
        self.out.needs_own = true;
        Err(HostError::Suspend)
    }

    /// Ends the run's use of the host: what it did, for the commit.
    pub fn finish(self) -> RunEffects {
        RunEffects {
            journal: self.journal.into_new(),
            ..self.out
        }
    }

    /// The run failed with `error`: every step still open failed with it (the failure
    /// left them), unless it already says so (a `RETRY` step whose tries are spent).
    /// Without this a step without `RETRY` would keep showing `running` or `waiting`,
    /// and an operator's retry would not know which step to run again.
    pub fn fail_open_steps(&mut self, error: &str) {
        for i in (0..self.steps.len()).rev() {
            let key = self.steps[i].key.as_str().to_string();
            let failed = self
                .out
                .steps
                .iter()
                .any(|r| r.key == key && r.status == StepStatus::Failed);
            if !failed {
                self.touch_step_at(i, StepStatus::Failed, None, Some(error.to_string()));
            }
        }
    }

    /// Turns a database error into an abandoned run (retried later), never a script failure.
    fn db<T>(&mut self, r: Result<T, Error>) -> HostResult<T> {
        r.map_err(|e| {
            self.out.abort = Some(e);
            HostError::Suspend
        })
    }

    /// Abandons the run (it is retried from a fresh read).
    fn conflict<T>(&mut self, why: &str) -> HostResult<T> {
        self.out.abort = Some(Error::Conflict(why.to_string()));
        Err(HostError::Suspend)
    }

    /// Ends the run waiting for `waiting_for` (and a timer at `wake_at`).
    fn suspend<T>(
        &mut self,
        waiting_for: WaitingFor,
        wake_at: Option<DateTime<Utc>>,
    ) -> HostResult<T> {
        self.suspend_with(Wait {
            waiting_for,
            wake_at,
            event: None,
        })
    }

    fn suspend_with<T>(&mut self, wait: Wait) -> HostResult<T> {
        self.out.wait = Some(wait);
        if !self.steps.is_empty() {
            self.flush_begins()?;
            self.touch_step(StepStatus::Waiting, None, None);
        }
        Err(HostError::Suspend)
    }

    /// Journals the begin entries of the steps in progress that have none yet.
    fn flush_begins(&mut self) -> HostResult<()> {
        for i in 0..self.steps.len() {
            if self.steps[i].begin_pending {
                let key = self.steps[i].key.begin();
                self.journal.record(key, &Stamp(self.steps[i].started_at))?;
                self.steps[i].begin_pending = false;
            }
        }
        Ok(())
    }

    fn set_step_kind(&mut self, kind: StepKind) {
        if let Some(s) = self.steps.last_mut() {
            if s.kind == StepKind::Task {
                s.kind = kind;
            }
        }
    }

    /// Records the latest state of the current step, written once at commit.
    fn touch_step(&mut self, status: StepStatus, result: Option<Json>, error: Option<String>) {
        if let Some(i) = self.steps.len().checked_sub(1) {
            self.touch_step_at(i, status, result, error);
        }
    }

    /// Records the latest state of the `i`-th step in progress (0 is the outermost).
    fn touch_step_at(
        &mut self,
        i: usize,
        status: StepStatus,
        result: Option<Json>,
        error: Option<String>,
    ) {
        let Some(s) = self.steps.get(i) else {
            return;
        };
        let row = StepRow {
            key: s.key.as_str().to_string(),
            label: s.label.clone(),
            kind: s.kind,
            status,
            result,
            error,
            attempts: s.key.attempt() as i32,
            started_at: s.started_at,
            finished_at: status.is_terminal().then(Utc::now),
        };
        match self.out.steps.iter_mut().find(|r| r.key == row.key) {
            Some(existing) => *existing = row,
            None => self.out.steps.push(row),
        }
    }

    /// A `{until}` timer under `key`: continues when due, else suspends until then.
    fn timer(&mut self, key: Key, secs: f64) -> HostResult<()> {
        let until = if self.journal.has(&key) {
            self.journal
                .get::<super::journal::Timer>(&key)
                .map(|t| t.until)
                .unwrap_or(self.now)
        } else {
            let until = after_secs(self.now, secs);
            self.journal
                .record(key.clone(), &super::journal::Timer { until })?;
            until
        };
        if Utc::now() >= until {
            return Ok(());
        }
        self.suspend(
            WaitingFor::Timer {
                key: key.to_string(),
                until,
            },
            Some(until),
        )
    }

    fn current_step_label(&self) -> Option<String> {
        self.steps.last().map(|s| s.label.clone())
    }
}

/// `secs` seconds (to the millisecond) after `t`.
fn after_secs(t: DateTime<Utc>, secs: f64) -> DateTime<Utc> {
    t + chrono::Duration::milliseconds((secs * 1000.0) as i64)
}

impl Journaled for DurableHost<'_> {
    fn journal(&mut self) -> &mut Journal {
        &mut self.journal
    }

    fn next_key(&mut self, op: Op) -> Key {
        self.journal.op_key(self.steps.last().map(|s| &s.key), op)
    }
}

/// The trait is implemented here once; each keyword lives in its family's file.
impl Host for DurableHost<'_> {
    fn talk(&mut self, text: &str) -> HostResult<()> {
        self.k_talk(text)
    }
    fn hear(&mut self) -> HostResult<String> {
        self.k_hear()
    }
    fn print(&mut self, text: &str) {
        self.k_print(text)
    }
    fn sleep(&mut self, secs: f64) -> HostResult<()> {
        self.k_sleep(secs)
    }
    fn now(&mut self) -> HostResult<DateTime<Utc>> {
        self.b_now()
    }
    fn random(&mut self) -> HostResult<f64> {
        self.b_random()
    }
    fn uuid(&mut self) -> HostResult<String> {
        self.b_uuid()
    }
    fn memory_get(&mut self, key: &str) -> HostResult<Json> {
        self.k_memory_get(key)
    }
    fn http(&mut self, call: &HttpCall) -> HostResult<Json> {
        self.k_http(call)
    }
    fn config(&mut self, key: &str) -> HostResult<Json> {
        self.k_config(key)
    }
    fn data(&mut self, call: &DataCall) -> HostResult<Json> {
        self.k_data(call)
    }
    fn send_mail(&mut self, mail: &MailCall) -> HostResult<Json> {
        self.k_send_mail(mail)
    }
    fn memory_set(&mut self, key: &str, value: Json) -> HostResult<()> {
        self.k_memory_set(key, value)
    }
    fn set_context(&mut self, key: &str, value: Json) -> HostResult<()> {
        self.k_set_context(key, value)
    }
    fn set_result(&mut self, value: Json) {
        self.out.result = Some(value);
    }
    fn in_workflow(&self) -> bool {
        self.exec.kind.in_workflow()
    }
    fn start_workflow(&mut self, name: &str, entry: usize, vars: Json) -> HostResult<String> {
        self.k_start_workflow(name, entry, vars)
    }
    fn step_begin(&mut self, spec: &StepSpec) -> HostResult<()> {
        self.k_step_begin(spec)
    }
    fn step_failed(&mut self, error: &str) -> HostResult<()> {
        self.k_step_failed(error)
    }
    fn step_end(&mut self, result: &Json) -> HostResult<()> {
        self.k_step_end(result)
    }
    fn delegate(&mut self, bot: &str, task: &str, vars: Json) -> HostResult<Json> {
        self.k_bot(bot, task, vars)
    }
    fn approval(&mut self, req: &ApprovalRequest) -> HostResult<Json> {
        self.k_approval(req)
    }
    fn parallel(&mut self, branches: &[(String, usize)], vars: Json) -> HostResult<Json> {
        self.k_parallel(branches, vars)
    }
    fn publish(&mut self, name: &str, payload: Json) -> HostResult<()> {
        self.k_publish(name, payload)
    }
    fn wait_event(
        &mut self,
        wait: &EventWait,
        filter: &mut dyn FnMut(&Json) -> Result<bool, String>,
    ) -> HostResult<Json> {
        self.k_wait_event(wait, filter)
    }
    fn share_memory(&mut self, key: &str, target: Option<&str>) -> HostResult<()> {
        self.k_share_memory(key, target)
    }
    fn sync_memory(&mut self, from: Option<&str>) -> HostResult<i64> {
        self.k_sync_memory(from)
    }
}
