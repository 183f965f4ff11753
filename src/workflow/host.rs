//! The durable host: the [`Host`] of a run inside the server. Every keyword looks in
//! the execution's journal under a deterministic key first (DESIGN §3); only when the
//! key is missing does it act, inside the run's database transaction, and record the
//! result. A keyword that must wait records what for and suspends the run.
//!
//! Keys are `scope/op#n`: the scope is the current step (`3`, `3#2` for its second
//! time round a loop, `3@2` for its second attempt), `n` counts that operation within
//! the scope. The same script with the same journal always derives the same keys.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use diesel::PgConnection;
use serde_json::{json, Value as Json};
use uuid::Uuid;

use super::Runtime;
use crate::basic::context::{ApprovalRequest, EventWait, Host, HostError, HostResult, StepSpec};
use crate::db::approvals::{self, NewApproval};
use crate::db::executions::{self, ExecRow, NewExecution, StepRow};
use crate::db::{events, memory};
use crate::error::Error;

/// The marker a child's failure leaves in its parent's journal.
pub const FAILED: &str = "__failed";

/// What a suspended run waits for.
#[derive(Debug, Clone)]
pub struct Wait {
    pub waiting_for: Json,
    pub wake_at: Option<DateTime<Utc>>,
    /// A `WAIT FOR EVENT` to register: journal key, names, cursor.
    pub event: Option<(String, Vec<String>, i64)>,
}

struct ActiveStep {
    label: String,
    key: String,
    attempt: u32,
    tries: u32,
    backoff_secs: f64,
    kind: &'static str,
    started_at: DateTime<Utc>,
    /// Its `!begin` entry is not journaled yet: a step that ends in the run it began in
    /// needs none (its `!end` says it all); one that waits or fails gets it then.
    begin_pending: bool,
}

/// The host of one run of one execution.
pub struct DurableHost<'a> {
    rt: &'a Runtime,
    conn: &'a mut PgConnection,
    pub exec: &'a ExecRow,
    journal: HashMap<String, Json>,
    /// New journal entries of this run, in order.
    pub new_entries: Vec<(String, Json)>,
    /// TALKs not delivered before (this run's new messages).
    pub new_talks: Vec<String>,
    /// Every TALK of the execution so far, replayed or new (a task's default result).
    pub all_talks: Vec<String>,
    pub result: Option<Json>,
    pub wait: Option<Wait>,
    /// A database or conflict error: the run is abandoned and retried, not failed.
    pub abort: Option<Error>,
    /// Step rows changed by this run, written at commit.
    pub step_rows: Vec<StepRow>,
    /// True when this run registered or used a `WAIT FOR EVENT`.
    pub used_event_wait: bool,
    /// This run already removed the execution's registered wait.
    pub wait_cleared: bool,
    /// Children claimed for this instance, to run on this thread after the commit.
    pub run_next: Vec<Uuid>,
    /// Children claimed for this instance, to run on threads of their own (branches).
    pub run_beside: Vec<events::Claimed>,
    /// Children left for any instance's scheduler.
    pub unowned_spawned: bool,
    counters: HashMap<String, u32>,
    step_counts: HashMap<String, u32>,
    steps: Vec<ActiveStep>,
    now: DateTime<Utc>,
}

impl<'a> DurableHost<'a> {
    pub fn new(
        rt: &'a Runtime,
        conn: &'a mut PgConnection,
        exec: &'a ExecRow,
        journal: HashMap<String, Json>,
    ) -> Self {
        DurableHost {
            rt,
            conn,
            exec,
            journal,
            new_entries: Vec::new(),
            new_talks: Vec::new(),
            all_talks: Vec::new(),
            result: None,
            wait: None,
            abort: None,
            step_rows: Vec::new(),
            used_event_wait: false,
            wait_cleared: false,
            run_next: Vec::new(),
            run_beside: Vec::new(),
            unowned_spawned: false,
            counters: HashMap::new(),
            step_counts: HashMap::new(),
            steps: Vec::new(),
            now: Utc::now(),
        }
    }

    pub fn into_conn(self) -> &'a mut PgConnection {
        self.conn
    }

    /// The conversation a TALK of this execution goes to (its own id when it has none,
    /// so that its output is still kept and shown).
    pub fn talk_target(&self) -> Uuid {
        self.exec.conversation_id.unwrap_or(self.exec.id)
    }

    fn scope(&self) -> String {
        match self.steps.last() {
            Some(s) if s.attempt > 1 => format!("{}@{}", s.key, s.attempt),
            Some(s) => s.key.clone(),
            None => String::new(),
        }
    }

    fn key(&mut self, op: &str) -> String {
        let scope = self.scope();
        let base = if scope.is_empty() {
            op.to_string()
        } else {
            format!("{scope}/{op}")
        };
        let n = self.counters.entry(base.clone()).or_insert(0);
        *n += 1;
        format!("{base}#{n}")
    }

    fn recorded(&self, key: &str) -> Option<&Json> {
        self.journal.get(key)
    }

    fn record(&mut self, key: String, value: Json) -> HostResult<()> {
        let size = value.to_string().len();
        if size > self.rt.config.max_journal_value_bytes {
            return Err(HostError::Fail(format!(
                "a value of {size} bytes is over the journal limit of {} bytes",
                self.rt.config.max_journal_value_bytes
            )));
        }
        self.journal.insert(key.clone(), value.clone());
        self.new_entries.push((key, value));
        Ok(())
    }

    /// Turns a database error into an abandoned run (retried later), never a script failure.
    fn db<T>(&mut self, r: Result<T, Error>) -> HostResult<T> {
        r.map_err(|e| {
            self.abort = Some(e);
            HostError::Suspend
        })
    }

    fn suspend<T>(&mut self, waiting_for: Json, wake_at: Option<DateTime<Utc>>) -> HostResult<T> {
        self.wait = Some(Wait {
            waiting_for,
            wake_at,
            event: None,
        });
        if !self.steps.is_empty() {
            self.flush_begins()?;
            self.touch_step("waiting", None, None)?;
        }
        Err(HostError::Suspend)
    }

    /// Journals the `!begin` entries of the steps in progress that have none yet.
    fn flush_begins(&mut self) -> HostResult<()> {
        let pending: Vec<(usize, String, DateTime<Utc>)> = self
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.begin_pending)
            .map(|(i, s)| (i, s.key.clone(), s.started_at))
            .collect();
        for (i, key, at) in pending {
            self.record(format!("{key}!begin"), Json::String(at.to_rfc3339()))?;
            self.steps[i].begin_pending = false;
        }
        Ok(())
    }

    fn set_step_kind(&mut self, kind: &'static str) {
        if let Some(s) = self.steps.last_mut() {
            if s.kind == "task" {
                s.kind = kind;
            }
        }
    }

    fn touch_step(
        &mut self,
        status: &str,
        result: Option<Json>,
        error: Option<String>,
    ) -> HostResult<()> {
        let Some(s) = self.steps.last() else {
            return Ok(());
        };
        let row = StepRow {
            key: s.key.clone(),
            label: s.label.clone(),
            kind: s.kind.to_string(),
            status: status.to_string(),
            result,
            error,
            attempts: s.attempt as i32,
            started_at: s.started_at,
            finished_at: matches!(status, "completed" | "failed").then(Utc::now),
        };
        // Written once per run at commit (the latest state of each step).
        match self.step_rows.iter_mut().find(|r| r.key == row.key) {
            Some(existing) => *existing = row,
            None => self.step_rows.push(row),
        }
        Ok(())
    }

    /// `{until}` timer under `key`: continues when due, else suspends until then.
    fn timer(&mut self, key: String, secs: f64) -> HostResult<()> {
        let until = match self.recorded(&key) {
            Some(v) => v
                .get("until")
                .and_then(|u| u.as_str())
                .and_then(|u| DateTime::parse_from_rfc3339(u).ok())
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or(self.now),
            None => {
                let until = self.now + Duration::milliseconds((secs * 1000.0) as i64);
                self.record(key.clone(), json!({ "until": until.to_rfc3339() }))?;
                until
            }
        };
        if Utc::now() >= until {
            return Ok(());
        }
        self.suspend(
            json!({ "kind": "timer", "key": key, "until": until.to_rfc3339() }),
            Some(until),
        )
    }

    fn child_value(v: &Json) -> HostResult<Json> {
        if let Some(msg) = v.get(FAILED) {
            return Err(HostError::Fail(
                msg.as_str().unwrap_or("the child failed").to_string(),
            ));
        }
        Ok(v.clone())
    }

    fn publish_now(&mut self, name: &str, payload: Json) -> HostResult<()> {
        let exec = self.exec;
        let r = events::publish(
            self.conn,
            name,
            &payload,
            Some(&exec.bot),
            Some(exec.id),
            exec.conversation_id
                .or((exec.kind == "conversation").then_some(exec.id)),
            self.rt.claimer().as_ref(),
        );
        let published = self.db(r)?;
        // What the event woke or started runs here after this run's commit.
        self.run_beside.extend(published.claimed);
        self.unowned_spawned |= published.unclaimed;
        Ok(())
    }

    /// Removes a wait an earlier run registered (when a timer or another wake-up, not a
    /// publisher, made it run again), while this run holds the names' locks.
    fn clear_event_wait(&mut self) -> HostResult<()> {
        if self.wait_cleared {
            return Ok(());
        }
        let r = events::clear_wait(self.conn, self.exec.id);
        self.db(r)?;
        self.wait_cleared = true;
        Ok(())
    }

    fn current_step_label(&self) -> Option<String> {
        self.steps.last().map(|s| s.label.clone())
    }

    fn new_approval(
        &mut self,
        key: &str,
        n: usize,
        approver: &str,
        req: &ApprovalRequest,
    ) -> HostResult<()> {
        let id = Uuid::now_v7();
        let token = crate::workflow::new_token();
        let deadline = req
            .timeout_secs
            .map(|t| Utc::now() + Duration::milliseconds((t * 1000.0) as i64));
        let a = NewApproval {
            id,
            execution_id: self.exec.id,
            key: key.to_string(),
            step: self.current_step_label(),
            approver: approver.to_string(),
            token: token.clone(),
            message: req.message.clone(),
            timeout_secs: req.timeout_secs,
            deadline,
            escalate_to: json!(req.escalate),
        };
        let r = approvals::create(self.conn, &a);
        self.db(r)?;
        self.record(
            format!("{key}!req#{n}"),
            json!({ "id": id, "approver": approver, "deadline": deadline.map(|d| d.to_rfc3339()) }),
        )?;
        self.publish_now(
            "approval_requested",
            json!({
                "approval_id": id,
                "workflow_id": self.exec.id,
                "bot": self.exec.bot,
                "step": a.step,
                "approver": approver,
                "token": token,
                "message": req.message,
                "timeout": req.timeout_secs,
            }),
        )
    }
}

impl Host for DurableHost<'_> {
    fn talk(&mut self, text: &str) -> HostResult<()> {
        let key = self.key("talk");
        self.all_talks.push(text.to_string());
        if self.recorded(&key).is_some() {
            return Ok(());
        }
        self.record(key, Json::String(text.to_string()))?;
        self.new_talks.push(text.to_string());
        Ok(())
    }

    fn hear(&mut self) -> HostResult<String> {
        let key = self.key("hear");
        if let Some(v) = self.recorded(&key) {
            return Ok(v.as_str().unwrap_or_default().to_string());
        }
        if self.exec.kind != "conversation" {
            return Err(HostError::Fail(format!(
                "HEAR needs a conversation; this execution is a {}",
                self.exec.kind
            )));
        }
        self.suspend(json!({ "kind": "message", "key": key }), None)
    }

    fn print(&mut self, text: &str) {
        tracing::info!(bot = %self.exec.bot, execution = %self.exec.id, "PRINT {text}");
    }

    fn sleep(&mut self, secs: f64) -> HostResult<()> {
        let key = self.key("sleep");
        self.set_step_kind("delay");
        self.timer(key, secs)
    }

    fn now(&mut self) -> HostResult<DateTime<Utc>> {
        let key = self.key("now");
        if let Some(t) = self
            .recorded(&key)
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        {
            return Ok(t.with_timezone(&Utc));
        }
        let t = Utc::now();
        self.record(key, Json::String(t.to_rfc3339()))?;
        Ok(t)
    }

    fn random(&mut self) -> HostResult<f64> {
        let key = self.key("random");
        if let Some(r) = self.recorded(&key).and_then(|v| v.as_f64()) {
            return Ok(r);
        }
        let r = rand::random::<f64>();
        self.record(key, json!(r))?;
        Ok(r)
    }

    fn uuid(&mut self) -> HostResult<String> {
        let key = self.key("uuid");
        if let Some(u) = self.recorded(&key).and_then(|v| v.as_str()) {
            return Ok(u.to_string());
        }
        let u = Uuid::now_v7().to_string();
        self.record(key, Json::String(u.clone()))?;
        Ok(u)
    }

    fn memory_get(&mut self, key: &str) -> HostResult<Json> {
        let jkey = self.key("memget");
        if let Some(v) = self.recorded(&jkey) {
            return Ok(v.clone());
        }
        let bot = self.exec.bot.clone();
        let r = memory::get(self.conn, &bot, key);
        let v = self.db(r)?.unwrap_or(Json::Null);
        self.record(jkey, v.clone())?;
        Ok(v)
    }

    fn memory_set(&mut self, key: &str, value: Json) -> HostResult<()> {
        let jkey = self.key("memset");
        if self.recorded(&jkey).is_some() {
            return Ok(());
        }
        let bot = self.exec.bot.clone();
        let r = memory::set(self.conn, &bot, key, &value);
        self.db(r)?;
        self.record(jkey, Json::Bool(true))
    }

    fn set_context(&mut self, key: &str, value: Json) -> HostResult<()> {
        let jkey = self.key("context");
        if self.recorded(&jkey).is_some() {
            return Ok(());
        }
        let conv = self.talk_target();
        let r = executions::set_context(self.conn, conv, key, &value);
        self.db(r)?;
        self.record(jkey, Json::Bool(true))
    }

    fn set_result(&mut self, value: Json) {
        self.result = Some(value);
    }

    fn in_workflow(&self) -> bool {
        matches!(self.exec.kind.as_str(), "workflow" | "task" | "branch")
    }

    fn start_workflow(&mut self, name: &str, entry: usize, vars: Json) -> HostResult<String> {
        let key = self.key("workflow");
        if let Some(id) = self.recorded(&key).and_then(|v| v.as_str()) {
            return Ok(id.to_string());
        }
        let id = Uuid::now_v7();
        let mut vars = vars;
        if let Json::Object(m) = &mut vars {
            m.insert("workflow_id".to_string(), json!(id));
        }
        let exec = self.exec;
        let new = NewExecution {
            id,
            kind: "workflow",
            bot: exec.bot.clone(),
            script: exec.script.clone(),
            script_hash: exec.script_hash.clone(),
            entry: entry as i32,
            name: Some(name.to_string()),
            input: vars,
            parent_id: None,
            parent_key: None,
            conversation_id: exec
                .conversation_id
                .or((exec.kind == "conversation").then_some(exec.id)),
            owner: None,
        };
        let r = executions::create(self.conn, &new, 0.0);
        self.db(r)?;
        self.record(key, Json::String(id.to_string()))?;
        Ok(id.to_string())
    }

    fn step_begin(&mut self, spec: &StepSpec) -> HostResult<()> {
        let count = self.step_counts.entry(spec.label.clone()).or_insert(0);
        *count += 1;
        let key = if *count == 1 {
            spec.label.clone()
        } else {
            format!("{}#{}", spec.label, count)
        };
        let begun = self
            .recorded(&format!("{key}!begin"))
            .and_then(|v| v.as_str())
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|d| d.with_timezone(&Utc));
        let ended = self.recorded(&format!("{key}!end")).is_some();
        self.steps.push(ActiveStep {
            label: spec.label.clone(),
            key: key.clone(),
            attempt: 1,
            tries: spec.tries.max(1),
            backoff_secs: spec.backoff_secs,
            kind: "task",
            started_at: begun.unwrap_or(self.now),
            begin_pending: begun.is_none() && !ended,
        });
        if begun.is_none() && !ended {
            self.touch_step("running", None, None)?;
        }
        Ok(())
    }

    fn step_failed(&mut self, _step: &StepSpec, error: &str) -> HostResult<()> {
        let Some(s) = self.steps.last() else {
            return Err(HostError::Fail(error.to_string()));
        };
        let (key, attempt, tries, backoff) = (s.key.clone(), s.attempt, s.tries, s.backoff_secs);
        let fail_key = format!("{key}!fail#{attempt}");
        self.flush_begins()?;
        let retry = match self.recorded(&fail_key) {
            Some(v) => v.get("retry").and_then(|r| r.as_bool()).unwrap_or(false),
            None => {
                let retry = attempt < tries;
                self.record(fail_key, json!({ "error": error, "retry": retry }))?;
                self.touch_step(
                    if retry { "retrying" } else { "failed" },
                    None,
                    Some(error.to_string()),
                )?;
                retry
            }
        };
        if !retry {
            return Err(HostError::Fail(error.to_string()));
        }
        let delay = backoff * 2f64.powi(attempt as i32 - 1);
        self.timer(format!("{key}!backoff#{attempt}"), delay)?;
        if let Some(s) = self.steps.last_mut() {
            s.attempt += 1;
        }
        Ok(())
    }

    fn step_end(&mut self, _label: &str, result: &Json) -> HostResult<()> {
        let Some(s) = self.steps.last() else {
            return Ok(());
        };
        let end_key = format!("{}!end", s.key);
        if self.recorded(&end_key).is_none() {
            self.record(end_key, result.clone())?;
            self.touch_step("completed", Some(result.clone()), None)?;
        }
        self.steps.pop();
        Ok(())
    }

    fn delegate(&mut self, bot: &str, task: &str, vars: Json) -> HostResult<Json> {
        let key = self.key("bot");
        self.set_step_kind("bot");
        if let Some(v) = self.recorded(&key) {
            return Self::child_value(v);
        }
        let child_key = format!("{key}!child");
        if let Some(child) = self.recorded(&child_key).cloned() {
            return self.suspend(
                json!({ "kind": "bot", "key": key, "bot": bot, "child": child }),
                None,
            );
        }
        let script = match self.rt.task_script(self.conn, bot, task) {
            Ok(s) => s,
            Err(Error::NotFound(m)) => return Err(HostError::Fail(m)),
            Err(e) => return self.db(Err(e)),
        };
        let mut input = match vars {
            Json::Object(m) => m,
            _ => Default::default(),
        };
        input.insert("task".to_string(), Json::String(task.to_string()));
        input.insert("workflow_id".to_string(), json!(self.root_workflow()));
        let id = Uuid::now_v7();
        let exec = self.exec;
        let new = NewExecution {
            id,
            kind: "task",
            bot: bot.to_string(),
            script: script.0,
            script_hash: script.1,
            entry: 0,
            name: Some(task.to_string()),
            input: Json::Object(input),
            parent_id: Some(exec.id),
            parent_key: Some(key.clone()),
            conversation_id: exec.conversation_id,
            owner: Some(self.rt.owner.clone()),
        };
        let r = executions::create(self.conn, &new, self.rt.config.lease_secs);
        self.db(r)?;
        // Claimed for this instance: it runs right after this run commits.
        self.run_next.push(id);
        self.record(child_key, Json::String(id.to_string()))?;
        self.suspend(
            json!({ "kind": "bot", "key": key, "bot": bot, "child": id }),
            None,
        )
    }

    fn approval(&mut self, req: &ApprovalRequest) -> HostResult<Json> {
        let key = self.key("approval");
        self.set_step_kind("approval");
        if let Some(v) = self.recorded(&key) {
            return Ok(v.clone());
        }
        let mut n = 0;
        while self.recorded(&format!("{key}!req#{}", n + 1)).is_some() {
            n += 1;
        }
        if n == 0 {
            self.new_approval(&key, 1, &req.who, req)?;
            n = 1;
        } else {
            let latest = self
                .recorded(&format!("{key}!req#{n}"))
                .cloned()
                .unwrap_or(Json::Null);
            let deadline = latest
                .get("deadline")
                .and_then(|d| d.as_str())
                .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
                .map(|d| d.with_timezone(&Utc));
            let approver = latest
                .get("approver")
                .and_then(|a| a.as_str())
                .unwrap_or(&req.who)
                .to_string();
            let id = latest
                .get("id")
                .and_then(|i| i.as_str())
                .and_then(|i| Uuid::parse_str(i).ok());
            if let (Some(deadline), Some(id)) = (deadline, id) {
                if Utc::now() >= deadline {
                    let escalating = n <= req.escalate.len();
                    let r = approvals::decide(
                        self.conn,
                        id,
                        if escalating { "escalated" } else { "timeout" },
                        None,
                        None,
                    );
                    if !self.db(r)? {
                        // Decided meanwhile: abandon this run; the replay sees the decision.
                        self.abort = Some(Error::Conflict(
                            "approval decided during its timeout".into(),
                        ));
                        return Err(HostError::Suspend);
                    }
                    if escalating {
                        let next = req.escalate[n - 1].clone();
                        self.new_approval(&key, n + 1, &next, req)?;
                        n += 1;
                    } else {
                        let value = json!({
                            "status": "timeout", "by": Json::Null, "comment": Json::Null,
                            "at": Utc::now().to_rfc3339(),
                        });
                        self.record(key.clone(), value.clone())?;
                        let step = self.current_step_label();
                        self.publish_now(
                            "timeout_occurred",
                            json!({ "workflow_id": self.exec.id, "step": step, "who": approver, "approval_id": id }),
                        )?;
                        return Ok(value);
                    }
                }
            }
        }
        let latest = self
            .recorded(&format!("{key}!req#{n}"))
            .cloned()
            .unwrap_or(Json::Null);
        let wake_at = latest
            .get("deadline")
            .and_then(|d| d.as_str())
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&Utc));
        self.suspend(
            json!({
                "kind": "approval", "key": key,
                "approval_id": latest.get("id"), "approver": latest.get("approver"),
            }),
            wake_at,
        )
    }

    fn parallel(
        &mut self,
        _label: &str,
        branches: &[(String, usize)],
        vars: Json,
    ) -> HostResult<Json> {
        let key = self.key("parallel");
        self.set_step_kind("parallel");
        if let Some(v) = self.recorded(&key) {
            return Self::child_value(v);
        }
        let started_key = format!("{key}!started");
        if self.recorded(&started_key).is_none() {
            let mut ids = serde_json::Map::new();
            let exec = self.exec;
            for (label, entry) in branches {
                let permit = self.rt.permits.clone().try_acquire_owned().ok();
                let id = Uuid::now_v7();
                let mut input = match &vars {
                    Json::Object(m) => m.clone(),
                    _ => Default::default(),
                };
                input.insert("workflow_id".to_string(), json!(self.root_workflow()));
                let new = NewExecution {
                    id,
                    kind: "branch",
                    bot: exec.bot.clone(),
                    script: exec.script.clone(),
                    script_hash: exec.script_hash.clone(),
                    entry: *entry as i32,
                    name: Some(label.clone()),
                    input: Json::Object(input),
                    parent_id: Some(exec.id),
                    parent_key: Some(format!("{key}!branch:{label}")),
                    conversation_id: exec.conversation_id,
                    owner: permit.as_ref().map(|_| self.rt.owner.clone()),
                };
                let r = executions::create(self.conn, &new, self.rt.config.lease_secs);
                self.db(r)?;
                // Branches run concurrently: each claimed one gets a thread of its own.
                match permit {
                    Some(permit) => self.run_beside.push(events::Claimed {
                        id,
                        permit,
                        loaded: None,
                        announce_end: false,
                    }),
                    None => self.unowned_spawned = true,
                }
                ids.insert(label.clone(), json!(id));
            }
            self.record(started_key, Json::Object(ids))?;
        }
        let mut out = serde_json::Map::new();
        let mut failures = Vec::new();
        let mut pending = Vec::new();
        for (label, _) in branches {
            match self.recorded(&format!("{key}!branch:{label}")) {
                Some(v) => {
                    if let Some(msg) = v.get(FAILED) {
                        failures.push(format!(
                            "branch {label}: {}",
                            msg.as_str().unwrap_or("failed")
                        ));
                    } else {
                        out.insert(label.clone(), v.clone());
                    }
                }
                None => pending.push(label.clone()),
            }
        }
        if !pending.is_empty() {
            return self.suspend(
                json!({ "kind": "parallel", "key": key, "pending": pending }),
                None,
            );
        }
        if !failures.is_empty() {
            let msg = failures.join("; ");
            self.record(key, json!({ FAILED: msg }))?;
            return Err(HostError::Fail(msg));
        }
        let value = Json::Object(out);
        self.record(key, value.clone())?;
        Ok(value)
    }

    fn publish(&mut self, name: &str, payload: Json) -> HostResult<()> {
        let key = self.key("publish");
        if self.recorded(&key).is_some() {
            return Ok(());
        }
        self.publish_now(name, payload)?;
        self.record(key, Json::Bool(true))
    }

    fn wait_event(
        &mut self,
        wait: &EventWait,
        filter: &mut dyn FnMut(&Json) -> Result<bool, String>,
    ) -> HostResult<Json> {
        let key = self.key("event");
        self.set_step_kind("event");
        self.used_event_wait = true;
        if let Some(v) = self.recorded(&key) {
            return Ok(v.clone());
        }
        let cursor_key = format!("{key}!cursor");
        // A run woken by a publish finds its event at once: that needs no lock, because
        // nothing is registered then. Only when no event matches (or on the first
        // arrival, for the cursor) are the names' locks taken and the search finished
        // under them.
        if let Some(cursor) = self
            .recorded(&cursor_key)
            .and_then(|v| v.get("cursor").and_then(|c| c.as_i64()))
        {
            let r = events::after(self.conn, &wait.names, cursor, 500);
            let batch = self.db(r)?;
            for ev in batch {
                let value = ev.to_script_value();
                if filter(&value).map_err(HostError::Fail)? {
                    self.clear_event_wait()?;
                    self.record(key, value.clone())?;
                    return Ok(value);
                }
            }
        }
        // The names' locks: a publisher holds them while it locks the rows of the
        // executions it wakes, and this run locks its own row only when it commits, so
        // both take the two locks in the same order (else they deadlock when a publish
        // meets a run that registers or ends a wait). Under them the cursor is exact too:
        // no publish of these names is in flight.
        let r = events::lock_names(self.conn, &wait.names);
        self.db(r)?;
        let (cursor, deadline) = match self.recorded(&cursor_key) {
            Some(v) => (
                v.get("cursor").and_then(|c| c.as_i64()).unwrap_or(0),
                v.get("deadline")
                    .and_then(|d| d.as_str())
                    .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
                    .map(|d| d.with_timezone(&Utc)),
            ),
            None => {
                let r = events::cursor(self.conn, &wait.names);
                let cursor = self.db(r)?;
                let deadline = wait
                    .timeout_secs
                    .map(|t| self.now + Duration::milliseconds((t * 1000.0) as i64));
                self.record(
                    cursor_key.clone(),
                    json!({ "cursor": cursor, "deadline": deadline.map(|d| d.to_rfc3339()) }),
                )?;
                (cursor, deadline)
            }
        };
        let mut scanned = cursor;
        loop {
            let r = events::after(self.conn, &wait.names, scanned, 500);
            let batch = self.db(r)?;
            if batch.is_empty() {
                break;
            }
            for ev in batch {
                scanned = ev.id;
                let value = ev.to_script_value();
                if filter(&value).map_err(HostError::Fail)? {
                    self.clear_event_wait()?;
                    self.record(key, value.clone())?;
                    return Ok(value);
                }
            }
        }
        if deadline.is_some_and(|d| Utc::now() >= d) {
            self.clear_event_wait()?;
            self.record(key, Json::Null)?;
            self.publish_now(
                "timeout_occurred",
                json!({ "workflow_id": self.exec.id, "step": self.current_step_label(), "waiting_for": wait.names }),
            )?;
            if let Some(who) = &wait.escalate {
                let req = ApprovalRequest {
                    who: who.clone(),
                    timeout_secs: None,
                    escalate: Vec::new(),
                    message: Some(format!(
                        "no event {} arrived in time",
                        wait.names.join(" or ")
                    )),
                };
                self.new_approval(&format!("{cursor_key}!escalation"), 1, who, &req)?;
            }
            return Ok(Json::Null);
        }
        self.wait = Some(Wait {
            waiting_for: json!({ "kind": "event", "key": key, "names": wait.names }),
            wake_at: deadline,
            event: Some((key, wait.names.clone(), scanned)),
        });
        if !self.steps.is_empty() {
            self.flush_begins()?;
            self.touch_step("waiting", None, None)?;
        }
        Err(HostError::Suspend)
    }

    fn share_memory(&mut self, key: &str, target: Option<&str>) -> HostResult<()> {
        let jkey = self.key("share");
        if self.recorded(&jkey).is_some() {
            return Ok(());
        }
        if let Some(t) = target {
            if !self.rt.has_bot(t) {
                return Err(HostError::Fail(format!(
                    "BOT SHARE MEMORY: unknown bot '{t}'"
                )));
            }
        }
        let bot = self.exec.bot.clone();
        let r = memory::share(self.conn, &bot, target.unwrap_or("*"), key);
        if !self.db(r)? {
            return Err(HostError::Fail(format!(
                "BOT SHARE MEMORY: bot '{bot}' has no value for '{key}' to share"
            )));
        }
        self.record(jkey, Json::Bool(true))
    }

    fn sync_memory(&mut self, from: Option<&str>) -> HostResult<i64> {
        let jkey = self.key("sync");
        if let Some(n) = self.recorded(&jkey).and_then(|v| v.as_i64()) {
            return Ok(n);
        }
        if let Some(f) = from {
            if !self.rt.has_bot(f) {
                return Err(HostError::Fail(format!(
                    "BOT SYNC MEMORY: unknown bot '{f}'"
                )));
            }
        }
        let bot = self.exec.bot.clone();
        let r = memory::sync(self.conn, &bot, from);
        let n = self.db(r)?;
        self.record(jkey, json!(n))?;
        Ok(n)
    }
}

impl DurableHost<'_> {
    /// The workflow a task or branch belongs to (for `workflow_id` in children).
    fn root_workflow(&self) -> Json {
        match self.exec.input.get("workflow_id") {
            Some(id) if self.exec.kind != "workflow" && !id.is_null() => id.clone(),
            _ => json!(self.exec.id),
        }
    }
}
