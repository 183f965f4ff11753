//! `ORCHESTRATE WORKFLOW`, `STEP` (with `RETRY`), `BOT` delegation, `HUMAN APPROVAL`
//! and `PARALLEL` (see `basic/keywords/workflow.rs`).

use chrono::Utc;
use serde_json::{json, Value as Json};
use uuid::Uuid;

use super::{after_secs, ActiveStep, DurableHost};
use crate::basic::context::{ApprovalRequest, HostError, HostResult, StepSpec};
use crate::basic::keywords::effects::Effect;
use crate::db::approvals::{self, NewApproval};
use crate::db::executions::{self, NewExecution};
use crate::db::states::{ApprovalStatus, ExecKind, ExecStatus, StepKind, StepStatus, WaitingFor};
use crate::error::Error;
use crate::workflow::claims::Claimed;
use crate::workflow::group::{Nesting, INLINE_DEPTH};
use crate::workflow::journal::{
    failure_marker, failure_of, Failure, Journaled, Key, Op, OwnKey, Pins, Request, Stamp,
};

/// The value a decided (or timed-out) approval gives the script.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    /// Approved, rejected or timeout.
    pub status: ApprovalStatus,
    /// Who decided (none on a timeout).
    pub by: Option<String>,
    /// The decider's comment.
    pub comment: Option<String>,
    /// When it was decided (RFC 3339).
    pub at: String,
}

impl Decision {
    /// A decision taken now.
    pub fn now(status: ApprovalStatus, by: Option<&str>, comment: Option<&str>) -> Decision {
        Decision {
            status,
            by: by.map(str::to_string),
            comment: comment.map(str::to_string),
            at: Utc::now().to_rfc3339(),
        }
    }

    /// As the journal and the script see it.
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or(Json::Null)
    }
}

/// A child's journaled result, or the failure it recorded.
fn child_value(v: &Json) -> HostResult<Json> {
    match failure_of(v) {
        Some(msg) => Err(HostError::Fail(msg)),
        None => Ok(v.clone()),
    }
}

impl DurableHost<'_> {
    /// The workflow a task or branch belongs to (for `workflow_id` in children).
    fn root_workflow(&self) -> Json {
        match self.exec.input.get("workflow_id") {
            Some(id) if self.exec.kind != ExecKind::Workflow && !id.is_null() => id.clone(),
            _ => json!(self.exec.id),
        }
    }

    /// `ORCHESTRATE WORKFLOW` (run from outside a workflow): starts the workflow once, for any instance to run.
    pub(super) fn k_start_workflow(
        &mut self,
        name: &str,
        entry: usize,
        vars: Json,
    ) -> HostResult<String> {
        self.journaled(Op::Workflow, |h| {
            h.in_transaction("ORCHESTRATE WORKFLOW")?;
            let id = Uuid::now_v7();
            let mut vars = vars;
            if let Json::Object(m) = &mut vars {
                m.insert("workflow_id".to_string(), json!(id));
            }
            let new = NewExecution::orchestrated(id, h.exec, name, entry, vars);
            let r = executions::create(h.conn, &new, 0.0);
            h.db(r)?;
            Ok(id.to_string())
        })
    }

    /// `STEP`: enters a step (its key counts loops), journaling nothing until it waits or fails.
    pub(super) fn k_step_begin(&mut self, spec: &StepSpec) -> HostResult<()> {
        let key = self.journal.step_key(&spec.label);
        let begun = self.journal.get::<Stamp>(&key.begin()).map(|s| s.0);
        let ended = self.journal.has(&key.end());
        let pending = begun.is_none() && !ended;
        self.steps.push(ActiveStep {
            label: spec.label.clone(),
            key,
            tries: spec.tries.max(1),
            backoff_secs: spec.backoff_secs,
            kind: StepKind::Task,
            started_at: begun.unwrap_or(self.now),
            begin_pending: pending,
        });
        if pending {
            self.touch_step(StepStatus::Running, None, None);
        }
        Ok(())
    }

    /// A failed attempt of the current step: `Ok` to try again once the backoff timer
    /// is due, `Err` when the tries are spent.
    pub(super) fn k_step_failed(&mut self, error: &str) -> HostResult<()> {
        let Some(s) = self.steps.last() else {
            return Err(HostError::Fail(error.to_string()));
        };
        let (step, tries, backoff) = (s.key.clone(), s.tries, s.backoff_secs);
        let fail_key = step.failure();
        self.flush_begins()?;
        let retry = if self.journal.has(&fail_key) {
            self.journal
                .get::<Failure>(&fail_key)
                .unwrap_or_default()
                .retry
        } else {
            let retry = step.attempt() < tries;
            let failure = Failure {
                error: error.to_string(),
                retry,
            };
            self.journal.record(fail_key, &failure)?;
            let status = if retry {
                StepStatus::Retrying
            } else {
                StepStatus::Failed
            };
            self.touch_step(status, None, Some(error.to_string()));
            retry
        };
        if !retry {
            return Err(HostError::Fail(error.to_string()));
        }
        let delay = backoff * 2f64.powi(step.attempt() as i32 - 1);
        self.timer(step.backoff(), delay)?;
        if let Some(s) = self.steps.last_mut() {
            s.key.next_attempt();
        }
        Ok(())
    }

    /// The end of a `STEP`: its result, journaled once.
    pub(super) fn k_step_end(&mut self, result: &Json) -> HostResult<()> {
        let Some(s) = self.steps.last() else {
            return Ok(());
        };
        let end_key = s.key.end();
        if !self.journal.has(&end_key) {
            self.journal.record(end_key, result)?;
            self.touch_step(StepStatus::Completed, Some(result.clone()), None);
        }
        self.steps.pop();
        Ok(())
    }

    /// Fails when `n` more children of this execution would make its workflow tree
    /// larger than the limit, or a child would be deeper than the delegation depth limit
    /// (a bot delegating to itself, directly or around a loop of bots, stops there).
    /// In a group-committed run both are counted in memory, from the tree's size read
    /// once.
    fn room_for_children(&mut self, what: &str, n: usize) -> HostResult<()> {
        let root = self
            .root_workflow()
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .unwrap_or(self.exec.id);
        let (size, depth) = match self.inline.as_mut() {
            Some((tree, nesting)) => {
                let base = match tree.base {
                    Some(b) => b,
                    None => {
                        let r = executions::tree_size(self.conn, tree.root);
                        let b = r.map_err(|e| {
                            self.out.abort = Some(e);
                            HostError::Suspend
                        })?;
                        tree.base = Some(b);
                        b
                    }
                };
                tree.grown += n as i32;
                ((base + tree.grown) as usize, Some(nesting.depth))
            }
            None => {
                let r = executions::grow_tree(self.conn, root, n as i32);
                (self.db(r)? as usize, None)
            }
        };
        let max = self.rt.config.max_tree;
        if size > max {
            return Err(HostError::Fail(format!(
                "{what}: the workflow tree would have {size} executions, over the limit of \
                 {max} (BOTSERVER_MAX_TREE)"
            )));
        }
        if self.exec.parent_id.is_none() {
            return Ok(());
        }
        let max = self.rt.config.max_depth;
        let depth = match depth {
            Some(d) => d,
            None => {
                let r = executions::depth(self.conn, self.exec.id, max as i32);
                self.db(r)? as usize
            }
        };
        if depth + 1 > max {
            return Err(HostError::Fail(format!(
                "{what}: a child here would be {} levels deep, over the delegation depth \
                 limit of {max} (BOTSERVER_MAX_DEPTH); does a bot delegate to itself?",
                depth + 1
            )));
        }
        Ok(())
    }

    /// Runs a new child inline (a group-committed run): its outcome joins the tree, to
    /// be written with the root's. Returns what the child leaves in the parent's journal
    /// under its key when it ended (its result, or a failure marker), `None` when it
    /// waits; `Err(Suspend)` when the run must be done in its own transaction after all.
    fn run_inline(&mut self, new: &NewExecution, what: &str) -> HostResult<Option<Json>> {
        let Some((_, nesting)) = self.inline.as_ref() else {
            return Err(HostError::Suspend);
        };
        let nesting = Nesting {
            depth: nesting.depth + 1,
            in_branch: nesting.in_branch || new.kind == ExecKind::Branch,
        };
        if nesting.depth > INLINE_DEPTH {
            return self.needs_own("children nested too deep to run inline");
        }
        let script = match self.rt.compiled(self.conn, &new.script_hash) {
            Ok(s) => s,
            Err(e) => return self.db(Err(e)),
        };
        if !self.rt.group.eligible(&script) {
            return self.needs_own(&format!("{what}: the child's script uses the database"));
        }
        // Branches run one after the other here: one that reaches outside (HTTP, mail)
        // would hold its siblings up, so such a tree runs its branches on threads of
        // their own.
        let entry_outside = |i: usize| {
            script
                .entries
                .get(i)
                .is_none_or(|e| e.effects.uses(Effect::Outside))
        };
        if nesting.in_branch && entry_outside(new.entry as usize) {
            return self.needs_own(&format!("{what}: a branch reaches outside the server"));
        }
        let row = new.as_row(&self.rt.owner);
        let Some((tree, _)) = self.inline.as_mut() else {
            return Err(HostError::Suspend);
        };
        // A nested run installs its own host and SET HEADER list on this thread: the
        // parent's come back when it returns.
        let headers = crate::basic::keywords::http::take_headers();
        let clock = crate::basic::engine::run_clock_save();
        let ran = self.rt.run_grouped(
            &mut *self.conn,
            &row,
            &script,
            Default::default(),
            false,
            tree,
            nesting,
            false,
        );
        crate::basic::engine::run_clock_restore(clock);
        crate::basic::keywords::http::restore_headers(headers);
        let ran = match ran {
            Ok(Some(r)) => r,
            Ok(None) => return self.needs_own(&format!("{what}: the child needs a transaction")),
            Err(e) => return self.db(Err(e)),
        };
        let outcome = ran.outcome;
        let value = match outcome.status {
            ExecStatus::Completed => Some(outcome.row.result.clone().unwrap_or(Json::Null)),
            ExecStatus::Failed => Some(failure_marker(&format!(
                "bot '{}' failed: {}",
                outcome.row.bot,
                outcome.row.error.as_deref().unwrap_or_default()
            ))),
            _ => None,
        };
        let Some((tree, _)) = self.inline.as_mut() else {
            return Err(HostError::Suspend);
        };
        tree.children.push(outcome);
        Ok(value)
    }

    /// `BOT "bot" "task"`: starts the child once (claimed for this instance, it runs
    /// right after this run commits) and waits for its result.
    pub(super) fn k_bot(&mut self, bot: &str, task: &str, vars: Json) -> HostResult<Json> {
        let key = self.next_key(Op::Bot);
        self.set_step_kind(StepKind::Bot);
        if let Some(v) = self.journal.raw(&key) {
            return child_value(v);
        }
        let child_key = key.child();
        if let Some(child) = self.journal.raw(&child_key).cloned() {
            return self.suspend(
                WaitingFor::Bot {
                    key: key.to_string(),
                    bot: bot.to_string(),
                    child,
                },
                None,
            );
        }
        self.room_for_children("BOT", 1)?;
        let mut script = match self.rt.task_script(self.conn, bot, task) {
            Ok(s) => s,
            Err(Error::NotFound(m)) => return Err(HostError::Fail(m)),
            Err(e) => return self.db(Err(e)),
        };
        // After a pinned retry, a child runs the version its predecessor ran.
        if let Some(pins) = self.journal.get::<Pins>(&OwnKey::pins()) {
            if let Some(hash) = pins.get(bot, &script.0) {
                script.1 = hash.to_string();
            }
        }
        let mut input = match vars {
            Json::Object(m) => m,
            _ => Default::default(),
        };
        input.insert("task".to_string(), Json::String(task.to_string()));
        input.insert("workflow_id".to_string(), self.root_workflow());
        let id = Uuid::now_v7();
        if self.inline.is_some() {
            // A group-committed run: the child runs now, on this thread, and the parent
            // goes on with its result as a replay after the child's end would.
            let new = NewExecution::task(id, self.exec, key.as_str(), bot, script, task, input);
            let ended = self.run_inline(&new, "BOT")?;
            self.journal.record(child_key, &id.to_string())?;
            if let Some(value) = ended {
                self.journal.record(key, &value)?;
                return child_value(&value);
            }
            return self.suspend(
                WaitingFor::Bot {
                    key: key.to_string(),
                    bot: bot.to_string(),
                    child: json!(id),
                },
                None,
            );
        }
        let new = NewExecution::task(id, self.exec, key.as_str(), bot, script, task, input)
            .owned_by(Some(self.rt.owner.clone()));
        let r = executions::create(self.conn, &new, self.rt.config.lease_secs);
        self.db(r)?;
        self.out.run_next.push(id);
        self.journal.record(child_key, &id.to_string())?;
        self.suspend(
            WaitingFor::Bot {
                key: key.to_string(),
                bot: bot.to_string(),
                child: json!(id),
            },
            None,
        )
    }

    /// Asks `approver` for a decision: the approval row, its request entry and the
    /// `approval_requested` event (which carries the token, so a handler can mail it).
    pub(super) fn new_approval(
        &mut self,
        key: &Key,
        n: usize,
        approver: &str,
        req: &ApprovalRequest,
    ) -> HostResult<()> {
        self.in_transaction("HUMAN APPROVAL")?;
        let id = Uuid::now_v7();
        let token = crate::workflow::new_token();
        let deadline = req.timeout_secs.map(|t| after_secs(Utc::now(), t));
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
        let request = Request {
            id: Some(id),
            approver: Some(approver.to_string()),
            deadline,
        };
        self.journal.record(key.request(n), &request)?;
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

    /// `HUMAN APPROVAL`: the decision, else a wait for it; a request whose timeout has
    /// passed is escalated to the next approver, or ends as `timeout`.
    pub(super) fn k_approval(&mut self, req: &ApprovalRequest) -> HostResult<Json> {
        let key = self.next_key(Op::Approval);
        self.set_step_kind(StepKind::Approval);
        if let Some(v) = self.journal.raw(&key) {
            return Ok(v.clone());
        }
        let mut n = self.journal.requests(&key);
        if n == 0 {
            self.new_approval(&key, 1, &req.who, req)?;
            n = 1;
        } else {
            let latest: Request = self.journal.get(&key.request(n)).unwrap_or_default();
            let approver = latest.approver.clone().unwrap_or_else(|| req.who.clone());
            if let (Some(deadline), Some(id)) = (latest.deadline, latest.id) {
                if Utc::now() >= deadline {
                    let escalating = n <= req.escalate.len();
                    let status = if escalating {
                        ApprovalStatus::Escalated
                    } else {
                        ApprovalStatus::Timeout
                    };
                    self.in_transaction("HUMAN APPROVAL")?;
                    let r = approvals::decide(self.conn, id, status, None, None);
                    if !self.db(r)? {
                        // Decided meanwhile: abandon this run; the replay sees the decision.
                        return self.conflict("approval decided during its timeout");
                    }
                    if escalating {
                        let next = req.escalate[n - 1].clone();
                        self.new_approval(&key, n + 1, &next, req)?;
                        n += 1;
                    } else {
                        let value = Decision::now(ApprovalStatus::Timeout, None, None).to_json();
                        self.journal.record(key.clone(), &value)?;
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
        let latest: Request = self.journal.get(&key.request(n)).unwrap_or_default();
        self.suspend(
            WaitingFor::Approval {
                key: key.to_string(),
                approval_id: latest.id,
                approver: latest.approver,
            },
            latest.deadline,
        )
    }

    /// `PARALLEL`: starts every branch once (those this instance has slots for run on
    /// threads of their own), then waits until each has left its result.
    pub(super) fn k_parallel(
        &mut self,
        branches: &[(String, usize)],
        vars: Json,
    ) -> HostResult<Json> {
        let key = self.next_key(Op::Parallel);
        self.set_step_kind(StepKind::Parallel);
        if let Some(v) = self.journal.raw(&key) {
            return child_value(v);
        }
        let started_key = key.started();
        if !self.journal.has(&started_key) {
            self.room_for_children("PARALLEL", branches.len())?;
            let mut ids = serde_json::Map::new();
            for (label, entry) in branches {
                let id = Uuid::now_v7();
                let mut input = match &vars {
                    Json::Object(m) => m.clone(),
                    _ => Default::default(),
                };
                input.insert("workflow_id".to_string(), self.root_workflow());
                if self.inline.is_some() {
                    // Group-committed: each branch runs now, one after the other; one
                    // that waits leaves the step waiting for it, as on its own thread.
                    let new = NewExecution::branch(
                        id,
                        self.exec,
                        &key.branch(label),
                        label,
                        *entry,
                        input,
                    );
                    if let Some(value) = self.run_inline(&new, "PARALLEL")? {
                        self.journal.record(key.branch(label), &value)?;
                    }
                    ids.insert(label.clone(), json!(id));
                    continue;
                }
                let permit = self.rt.permits.clone().try_acquire_owned().ok();
                let new =
                    NewExecution::branch(id, self.exec, &key.branch(label), label, *entry, input)
                        .owned_by(permit.as_ref().map(|_| self.rt.owner.clone()));
                let r = executions::create(self.conn, &new, self.rt.config.lease_secs);
                self.db(r)?;
                // Branches run concurrently: each claimed one gets a thread of its own.
                match permit {
                    Some(permit) => self.out.run_beside.push(Claimed {
                        id,
                        permit,
                        loaded: None,
                        announce_end: false,
                    }),
                    None => self.out.unowned_spawned = true,
                }
                ids.insert(label.clone(), json!(id));
            }
            self.journal.record(started_key, &ids)?;
        }
        let mut out = serde_json::Map::new();
        let mut failures = Vec::new();
        let mut pending = Vec::new();
        for (label, _) in branches {
            match self.journal.raw(&key.branch(label)) {
                Some(v) => match failure_of(v) {
                    Some(msg) => failures.push(format!("branch {label}: {msg}")),
                    None => {
                        out.insert(label.clone(), v.clone());
                    }
                },
                None => pending.push(label.clone()),
            }
        }
        if !pending.is_empty() {
            return self.suspend(
                WaitingFor::Parallel {
                    key: key.to_string(),
                    pending,
                },
                None,
            );
        }
        if !failures.is_empty() {
            let msg = failures.join("; ");
            self.journal.record(key, &failure_marker(&msg))?;
            return Err(HostError::Fail(msg));
        }
        let value = Json::Object(out);
        self.journal.record(key, &value)?;
        Ok(value)
    }
}
