//! Operations the API (and the benchmark) performs on executions: start a conversation
//! or a workflow, deliver a message, decide an approval, publish an event, cancel and
//! retry. Each is one transaction plus, where useful, an immediate run on this instance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use diesel::Connection;
use serde_json::{json, Value as Json};
use uuid::Uuid;

use super::claims::{self, Claimed};
use super::group::{Delivery, InlineTree, Nesting};
use super::host::Decision;
use super::journal::{Origin, OwnKey, Pins, StepKey, FAILED};
use super::runner::Grouped;
use super::{publishing, Runtime};
use crate::db::executions::{self, ExecRow, NewExecution};
use crate::db::states::{ApprovalStatus, Direction, ExecKind, ExecStatus, StepStatus, WaitingFor};
use crate::db::{approvals, events};
use crate::db::{leases, messages, steps};
use crate::error::{Error, Result};

/// Who decided an approval without its own token (the admin token, or development
/// mode without a token), as `decided_by` and the script's `approval.by` record it.
pub const ADMIN: &str = "admin";

/// The answer to a conversation call.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConversationReply {
    /// The conversation's id.
    pub id: Uuid,
    /// The bot's new messages.
    pub messages: Vec<String>,
    /// True when the bot waits for the user's next message.
    pub waiting: bool,
    /// The conversation's status.
    pub status: ExecStatus,
}

impl ConversationReply {
    fn after(id: Uuid, report: super::runner::RunReport) -> ConversationReply {
        ConversationReply {
            id,
            waiting: report.status == ExecStatus::Waiting
                && WaitingFor::is_message(report.waiting_for.as_ref()),
            messages: report.talks,
            status: report.status,
        }
    }
}

/// Conversations waiting in a `HEAR` as this instance's last message to each left them:
/// the row, its whole journal and its count of runs. The next message to one of them
/// needs no read: its outcome is written only while the row still waits with that count
/// of runs (every run of an execution adds one, whoever runs it), so a conversation
/// that moved on elsewhere (another instance, an operator) is refused at the commit,
/// forgotten here, and read afresh.
#[derive(Default)]
pub(super) struct Remembered {
    map: Mutex<HashMap<Uuid, Conversation>>,
}

pub(super) struct Conversation {
    exec: ExecRow,
    journal: HashMap<String, Json>,
    runs: i32,
}

impl Conversation {
    /// The conversation as a run's `outcome` leaves it, when that is waiting in a `HEAR`:
    /// `journal` is what the run started from, `runs` its count of runs after the run.
    pub(super) fn after(
        outcome: &super::group::Outcome,
        mut journal: HashMap<String, Json>,
        runs: i32,
    ) -> Option<Conversation> {
        let waits = outcome.row.kind == ExecKind::Conversation
            && outcome.status == ExecStatus::Waiting
            && WaitingFor::message_key(outcome.waiting_for.as_ref()).is_some();
        waits.then(|| {
            journal.extend(outcome.journal.iter().cloned());
            Conversation {
                exec: outcome.row.clone(),
                journal,
                runs,
            }
        })
    }
}

impl Remembered {
    /// The most conversations remembered, and the most journal entries of one.
    const KEEP: usize = 10_000;
    const MAX_ENTRIES: usize = 512;

    fn take(&self, id: Uuid) -> Option<Conversation> {
        self.map.lock().ok()?.remove(&id)
    }

    pub(super) fn keep(&self, id: Uuid, c: Conversation) {
        if c.journal.len() > Self::MAX_ENTRIES {
            return;
        }
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= Self::KEEP {
                // Forget an arbitrary half: it costs those one read each, no more.
                let drop: Vec<Uuid> = m.keys().take(Self::KEEP / 2).copied().collect();
                for k in drop {
                    m.remove(&k);
                }
            }
            m.insert(id, c);
        }
    }
}

/// The name of a script started as a workflow: its `ORCHESTRATE WORKFLOW` name, else the
/// script's.
pub(crate) fn workflow_name(compiled: &crate::basic::CompiledScript, script: &str) -> String {
    compiled
        .entries
        .iter()
        .find_map(|e| match &e.generated.kind {
            crate::basic::EntryKind::Workflow { name } if !name.is_empty() => Some(name.clone()),
            _ => None,
        })
        .unwrap_or_else(|| script.to_string())
}

impl Runtime {
    /// True when an operator paused `bot` (read from the database at most once a second,
    /// so a pause on another instance counts here within a second).
    pub fn is_paused(&self, bot: &str) -> Result<bool> {
        let fresh = |t: &Option<std::time::Instant>| {
            t.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1))
        };
        if let Ok(p) = self.paused.lock() {
            if fresh(&p.0) {
                return Ok(p.1.contains(bot));
            }
        }
        let bots = events::paused_bots(&mut *self.conn()?)?;
        let paused = bots.contains(bot);
        if let Ok(mut p) = self.paused.lock() {
            *p = (Some(std::time::Instant::now()), bots);
        }
        Ok(paused)
    }

    /// Pauses or resumes `bot` (the operator's switch): while paused, none of its
    /// executions is claimed, its `ON EVENT` handlers are stored but not started, new
    /// workflows of it are stored but not run, and its conversations answer 409. Resuming
    /// lets every instance run what waited. True when the state changed.
    pub fn set_paused(&self, bot: &str, paused: bool) -> Result<bool> {
        let mut conn = self.conn()?;
        let changed = if paused {
            events::pause(&mut conn, bot)?
        } else {
            events::resume(&mut conn, bot)?
        };
        if let Ok(mut p) = self.paused.lock() {
            p.0 = None;
        }
        if !paused {
            events::notify_wake(&mut conn, "")?;
            self.bus.wake.notify_one();
            self.announce();
        }
        Ok(changed)
    }

    fn refuse_paused(&self, bot: &str) -> Result<()> {
        if self.is_paused(bot)? {
            return Err(Error::Conflict(format!(
                "bot '{bot}' is paused (POST /api/bots/{bot}/resume resumes it)"
            )));
        }
        Ok(())
    }

    /// Starts `start.bas` of a bot as a conversation and runs it to its first wait.
    pub fn start_conversation(&self, bot: &str) -> Result<ConversationReply> {
        self.refuse_paused(bot)?;
        // The id is the conversation's capability (its later calls need nothing else), so
        // it is random (v4: 122 random bits), not a v7 whose neighbours made in the same
        // millisecond share all but a counter and about 32 random bits.
        let id = Uuid::new_v4();
        let (script, hash) = self.current_script(&mut *self.conn()?, bot, "start")?;
        let new = NewExecution::top(
            id,
            ExecKind::Conversation,
            bot,
            (script, hash),
            None,
            json!({}),
        )
        .owned_by(Some(self.owner.clone()));
        let report = self.run_new(new, None)?;
        Ok(ConversationReply::after(id, report))
    }

    /// Delivers a user message to a conversation waiting in HEAR and runs it on.
    pub fn post_message(&self, id: Uuid, text: &str) -> Result<ConversationReply> {
        if let Some(reply) = self.deliver_grouped(id, text)? {
            return Ok(reply);
        }
        let mut conn = self.conn()?;
        conn.transaction::<_, Error, _>(|conn| {
            let status = executions::lock_status(conn, id)?
                .ok_or_else(|| Error::NotFound(format!("no conversation {id}")))?;
            let exec = executions::get(conn, id)?
                .filter(|e| e.kind == ExecKind::Conversation)
                .ok_or_else(|| Error::NotFound(format!("no conversation {id}")))?;
            self.refuse_paused(&exec.bot)?;
            let key = Some(exec.waiting_for.as_ref())
                .filter(|_| status == ExecStatus::Waiting)
                .and_then(WaitingFor::message_key)
                .ok_or_else(|| {
                    Error::Conflict(if status.is_terminal() {
                        format!("conversation {id} has ended ({status})")
                    } else {
                        format!("conversation {id} is not waiting for a message (status: {status})")
                    })
                })?;
            crate::db::journal::append_journal(conn, id, &[(key, Json::String(text.to_string()))])?;
            messages::add_messages(conn, id, id, Direction::User, &[text.to_string()])?;
            leases::take_over(conn, id, &self.owner, self.config.lease_secs)?;
            Ok(())
        })?;
        drop(conn);
        let report = self.run_owned(id)?;
        Ok(ConversationReply::after(id, report))
    }

    /// Delivers a message through the group commit when the conversation's script needs
    /// the database only at commit (a dialog of HEARs and TALKs): the conversation is read
    /// without a lock, run with the message in its journal, and its outcome — the message
    /// line, the journal entries, the answers and the new wait — is written by the
    /// committer with other runs' in one transaction, only if the conversation still
    /// waits in the wait it was read in. One statement to read and a share of one commit
    /// instead of two transactions (delivery, then the run). `None` when this path does
    /// not apply or the committer refused it: the transactional path then answers
    /// (and reports why a message cannot be delivered).
    fn deliver_grouped(&self, id: Uuid, text: &str) -> Result<Option<ConversationReply>> {
        let mut conn = self.conn()?;
        let (exec, mut entries, runs) = match self.conversations.take(id) {
            Some(c) => (c.exec, c.journal, c.runs),
            None => {
                let Some((exec, journal, runs)) = executions::load_with_runs(&mut conn, id)? else {
                    return Ok(None);
                };
                let entries: HashMap<String, Json> = match journal {
                    Json::Object(m) => m.into_iter().collect(),
                    _ => Default::default(),
                };
                (exec, entries, runs)
            }
        };
        if exec.kind != ExecKind::Conversation || exec.status != ExecStatus::Waiting {
            return Ok(None);
        }
        let Some(key) = WaitingFor::message_key(exec.waiting_for.as_ref()) else {
            return Ok(None);
        };
        if self.is_paused(&exec.bot)? {
            return Ok(None);
        }
        let script = self.compiled(&mut conn, &exec.script_hash)?;
        if !self.group.eligible(&script) {
            return Ok(None);
        }
        let said = Json::String(text.to_string());
        if entries.insert(key.clone(), said.clone()).is_some() {
            return Ok(None);
        }
        let mut tree = InlineTree::new(id, true);
        let run = self.run_grouped(
            &mut conn,
            &exec,
            &script,
            entries.clone(),
            true,
            &mut tree,
            Nesting::default(),
            false,
        )?;
        drop(conn);
        let Some(Grouped { mut outcome, talks }) = run else {
            return Ok(None);
        };
        outcome.existing = false;
        outcome.delivered = Some(Delivery {
            runs,
            text: text.to_string(),
        });
        // As the commit leaves the conversation, for its next message.
        let next = Conversation::after(&outcome, entries, runs + 1);
        outcome.journal.insert(0, (key, said));
        let report = self.commit_grouped(outcome, talks, tree, &mut None)?;
        if let (Some(_), Some(next)) = (&report, next) {
            self.conversations.keep(id, next);
        }
        Ok(report.map(|r| ConversationReply::after(id, r)))
    }

    /// Starts a script of a bot as a workflow execution and returns its id. When this
    /// instance has room, the workflow's first run happens here and now, in the same
    /// transaction as its creation; otherwise it is stored for whichever instance has room.
    pub fn start_workflow(
        &self,
        bot: &str,
        script: &str,
        input: Json,
    ) -> Result<(Uuid, ExecStatus)> {
        self.start_workflow_as(Uuid::now_v7(), bot, script, input)
    }

    /// [`Runtime::start_workflow`] with the id chosen by the caller (a UUID v7, as workflow
    /// ids are): an idempotent start records the id before it starts the workflow.
    pub fn start_workflow_as(
        &self,
        id: Uuid,
        bot: &str,
        script: &str,
        input: Json,
    ) -> Result<(Uuid, ExecStatus)> {
        if !input.is_object() && !input.is_null() {
            return Err(Error::BadRequest("'input' must be a JSON object".into()));
        }
        let mut input = if input.is_null() { json!({}) } else { input };
        // A workflow knows its own id, as its children do.
        input["workflow_id"] = json!(id);
        // A paused bot's workflow is stored, to run when the bot is resumed.
        let permit = if self.is_paused(bot)? {
            None
        } else {
            self.permits.clone().try_acquire_owned().ok()
        };
        let mut conn = self.conn()?;
        let (script, hash) = self.current_script(&mut conn, bot, script)?;
        let compiled = self.compiled(&mut conn, &hash)?;
        let name = workflow_name(&compiled, &script);
        let new = NewExecution::top(
            id,
            ExecKind::Workflow,
            bot,
            (script, hash),
            Some(name),
            input,
        )
        .owned_by(permit.is_some().then(|| self.owner.clone()));
        let status = match permit {
            Some(permit) => {
                drop(conn);
                self.run_new(new, Some(permit))?.status
            }
            None => {
                tracing::info!(execution = %id, "no room for a run here; stored for the scheduler");
                executions::create(&mut conn, &new, self.config.lease_secs)?;
                // No room here: whichever instance has room claims it.
                self.bus.wake.notify_one();
                self.announce();
                ExecStatus::Running
            }
        };
        Ok((id, status))
    }

    /// Decides an approval. `token` is the approval's own token, or `None` for the admin.
    pub fn decide_approval(
        &self,
        id: Uuid,
        token: Option<&str>,
        approve: bool,
        comment: Option<&str>,
    ) -> Result<Json> {
        let mut conn = self.conn()?;
        let mut claimed = Vec::new();
        let value = conn.transaction::<_, Error, _>(|conn| {
            let a = approvals::get(conn, id)?.ok_or_else(|| Error::NotFound(format!("no approval {id}")))?;
            // Who really decided: the approver only when their own token was used.
            let by = match token {
                None => ADMIN.to_string(),
                Some(t) if super::same_secret(&a.token, t) => a.approver.clone(),
                Some(_) => {
                    return Err(Error::Forbidden(format!(
                        "this token cannot decide approval {id}; only {} (with the approval's token) or the admin can",
                        a.approver
                    )))
                }
            };
            let status = if approve {
                ApprovalStatus::Approved
            } else {
                ApprovalStatus::Rejected
            };
            if !approvals::decide(conn, id, status, Some(&by), comment)? {
                let now = approvals::get(conn, id)?
                    .map(|a| a.status.as_str())
                    .unwrap_or_default();
                return Err(Error::Conflict(format!("approval {id} is already {now}")));
            }
            let value = Decision::now(status, Some(&by), comment).to_json();
            // The decided workflow goes on here at once when there is a free run slot.
            let claimer = self.claimer();
            let slot = claimer.as_ref().and_then(|c| c.slot());
            let claim = slot.as_ref().map(|_| (self.owner.as_str(), self.config.lease_secs));
            let resolved = leases::resolve_wait(conn, a.execution_id, &a.key, &value, claim)?;
            if let (leases::Resolved::Claimed, Some(permit)) = (resolved, slot) {
                claimed.push(Claimed {
                    id: a.execution_id,
                    permit,
                    loaded: None,
                    announce_end: true,
                });
            }
            let exec = executions::get(conn, a.execution_id)?;
            let published = claims::publish(
                conn,
                if approve { "approval_received" } else { "approval_denied" },
                &json!({
                    "approval_id": id, "workflow_id": a.execution_id, "step": a.step,
                    "approver": a.approver, "by": by, "comment": comment,
                }),
                claims::Source {
                    bot: exec.as_ref().map(|e| e.bot.as_str()),
                    execution: Some(a.execution_id),
                    conversation: exec.as_ref().and_then(|e| e.conversation_id),
                    chain: 0,
                },
                claimer.as_ref(),
            )?;
            if published.unclaimed {
                events::notify_wake(conn, "approval")?;
            }
            claimed.extend(published.claimed);
            Ok(value)
        })?;
        self.start_beside(claimed);
        self.bus.wake.notify_one();
        self.announce();
        Ok(value)
    }

    /// Publishes an event from outside any execution (the API).
    ///
    /// It is written with the other publishes in flight (`publishing`), or, when that
    /// batch failed, in a transaction of its own.
    pub fn publish_event(&self, name: &str, payload: &Json) -> Result<i64> {
        let batched = self
            .publisher
            .send(name, payload, self.claim_for())
            .and_then(|answer| answer.blocking_recv().ok().flatten());
        let p = match batched {
            Some(p) => p,
            None => self.publish_alone(name, payload)?,
        };
        Ok(self.published(p))
    }

    /// [`Runtime::publish_event`] for async callers (the API): the request waits for
    /// the committer without holding a thread.
    pub async fn publish_event_async(self: &Arc<Self>, name: &str, payload: &Json) -> Result<i64> {
        let batched = match self.publisher.send(name, payload, self.claim_for()) {
            Some(answer) => answer.await.ok().flatten(),
            None => None,
        };
        let p = match batched {
            Some(p) => p,
            None => {
                let (rt, name, payload) = (self.clone(), name.to_string(), payload.clone());
                tokio::task::spawn_blocking(move || rt.publish_alone(&name, &payload))
                    .await
                    .map_err(|e| Error::Internal(format!("publishing failed: {e}")))??
            }
        };
        Ok(self.published(p))
    }

    /// What a publish through the committer claims for this instance.
    fn claim_for(&self) -> Option<publishing::ClaimFor> {
        self.claimer().map(|c| publishing::ClaimFor {
            owner: c.owner.to_string(),
            lease_secs: c.lease_secs,
            permits: c.permits.clone(),
        })
    }

    /// Publishes in a transaction of its own.
    fn publish_alone(&self, name: &str, payload: &Json) -> Result<claims::Published> {
        self.conn()?.transaction::<_, Error, _>(|conn| {
            claims::publish(
                conn,
                name,
                payload,
                claims::Source::default(),
                self.claimer().as_ref(),
            )
        })
    }

    /// After a publish's commit: tells whoever must hear and runs what it claimed;
    /// returns the event's id.
    fn published(&self, p: claims::Published) -> i64 {
        let id = p.id;
        if p.unclaimed {
            self.bus.wake.notify_one();
            self.announce();
            self.wake_elsewhere();
        }
        self.start_beside(p.claimed);
        id
    }

    /// Cancels a running, waiting or failed execution and its whole tree (children,
    /// branches, their children): each one that has not ended is cancelled, its pending
    /// approvals are closed (deciding one afterwards is a conflict) and its event wait is
    /// removed; then `workflow_cancelled` is published with the ids it cancelled.
    pub fn cancel(&self, id: Uuid) -> Result<()> {
        let mut conn = self.conn()?;
        let (published, cancelled, woke_parent) = conn.transaction::<_, Error, _>(|conn| {
            let status = executions::lock_status(conn, id)?
                .ok_or_else(|| Error::NotFound(format!("no workflow {id}")))?;
            if matches!(status, ExecStatus::Completed | ExecStatus::Cancelled) {
                return Err(Error::Conflict(format!(
                    "workflow {id} is already {status}"
                )));
            }
            let tree = executions::tree(conn, id)?;
            let mut cancelled = Vec::new();
            for e in &tree {
                // Read again under the row lock: a run may have ended it meanwhile.
                let Some(now) = executions::lock_status(conn, e.id)? else {
                    continue;
                };
                // A descendant that failed or completed keeps its end; the root may be failed.
                if now.is_terminal() && !(e.id == id && now == ExecStatus::Failed) {
                    continue;
                }
                executions::cancel(conn, e.id)?;
                approvals::cancel_for(conn, e.id)?;
                events::clear_wait(conn, e.id)?;
                cancelled.push(e.id);
            }
            let root = tree.first();
            // A cancelled child fails its parent's step (the parent no longer waits for
            // it); a retry of the parent then runs that step again.
            let mut woke_parent = false;
            if let Some(child) = root.filter(|r| cancelled.contains(&r.id)) {
                if let (Some(parent), Some(key)) = (child.parent_id, child.parent_key.as_deref()) {
                    let marker = super::journal::failure_marker(&format!(
                        "bot '{}' was cancelled by an operator (execution {})",
                        child.bot, child.id
                    ));
                    woke_parent = matches!(
                        leases::resolve_wait(conn, parent, key, &marker, None)?,
                        leases::Resolved::Woken | leases::Resolved::Claimed
                    );
                    if woke_parent {
                        events::notify_wake(conn, "")?;
                    }
                }
            }
            let published = claims::publish(
                conn,
                "workflow_cancelled",
                &json!({ "workflow_id": id, "cancelled": cancelled }),
                claims::Source {
                    bot: root.map(|e| e.bot.as_str()),
                    execution: Some(id),
                    conversation: root.and_then(|e| e.conversation_id),
                    chain: 0,
                },
                self.claimer().as_ref(),
            )?;
            if published.unclaimed {
                events::notify_wake(conn, "workflow_cancelled")?;
            }
            Ok((published, cancelled, woke_parent))
        })?;
        if published.unclaimed || woke_parent {
            self.bus.wake.notify_one();
            self.announce();
        }
        // Result long polls on this instance answer at once.
        for c in cancelled {
            let _ = self.bus.finished.send(c);
        }
        self.start_beside(published.claimed);
        Ok(())
    }

    /// Retries a failed execution from its failed step: the failed steps' journal is
    /// forgotten (and every recorded child failure), so they run again, on the versions
    /// `version` says; the journal of the steps before them is kept.
    pub fn retry(&self, id: Uuid, version: RetryVersion) -> Result<()> {
        let mut conn = self.conn()?;
        conn.transaction::<_, Error, _>(|conn| {
            let status = executions::lock_status(conn, id)?
                .ok_or_else(|| Error::NotFound(format!("no workflow {id}")))?;
            if status != ExecStatus::Failed {
                return Err(Error::Conflict(format!(
                    "only a failed workflow can be retried; {id} is {status}"
                )));
            }
            let exec = executions::get(conn, id)?
                .ok_or_else(|| Error::NotFound(format!("no workflow {id}")))?;
            let mut prefixes = Vec::new();
            for step in steps::steps(conn, id)? {
                if step.status == StepStatus::Failed {
                    prefixes.extend(StepKey::retry_prefixes(&step.key));
                    steps::reset_step(conn, id, &step.key)?;
                }
            }
            // The pins are written anew by a pinned retry and dropped by a latest one.
            prefixes.push(OwnKey::pins().as_str().to_string());
            crate::db::journal::forget_journal(conn, id, &prefixes)?;
            crate::db::journal::forget_failures(conn, id, FAILED)?;
            let origin_key = OwnKey::origin();
            let origin: Option<Origin> = crate::db::journal::entry(conn, id, origin_key.as_str())?
                .and_then(|v| serde_json::from_value(v).ok());
            let mut new_entries = Vec::new();
            match version {
                RetryVersion::Latest => {
                    let (hash, entry) = self.newest_version(conn, &exec)?;
                    if hash != exec.script_hash || entry != exec.entry {
                        if origin.is_none() {
                            let o = Origin {
                                hash: exec.script_hash.clone(),
                                entry: exec.entry,
                            };
                            new_entries.push((origin_key.as_str().to_string(), json!(o)));
                        }
                        executions::set_script(conn, id, &hash, entry)?;
                    }
                }
                RetryVersion::Pinned => {
                    if let Some(o) = origin {
                        executions::set_script(conn, id, &o.hash, o.entry)?;
                    }
                    // Oldest first: the latest child of each bot and script sets its pin.
                    let mut pins = Pins::default();
                    for c in executions::children(conn, id)? {
                        if c.kind == ExecKind::Task {
                            pins.pin(&c.bot, &c.script, &c.script_hash);
                        }
                    }
                    if !pins.0.is_empty() {
                        new_entries.push((OwnKey::pins().as_str().to_string(), json!(pins)));
                    }
                }
            }
            crate::db::journal::append_journal(conn, id, &new_entries)?;
            executions::set_status(conn, id, ExecStatus::Running, None)?;
            executions::clear_error(conn, id)?;
            Ok(())
        })?;
        self.bus.wake.notify_one();
        self.announce();
        Ok(())
    }

    /// The newest version of an execution's script and its entry point there: the whole
    /// file, or the `ORCHESTRATE WORKFLOW` of the same name.
    fn newest_version(
        &self,
        conn: &mut diesel::PgConnection,
        exec: &executions::ExecRow,
    ) -> Result<(String, i32)> {
        let (_, hash) = self.current_script(conn, &exec.bot, &exec.script)?;
        if exec.entry == 0 {
            return Ok((hash, 0));
        }
        let compiled = self.compiled(conn, &hash)?;
        let found = compiled.entries.iter().position(|e| {
            matches!(&e.generated.kind, crate::basic::EntryKind::Workflow { name }
                if exec.kind == ExecKind::Workflow && Some(name) == exec.name.as_ref())
        });
        match found {
            Some(i) => Ok((hash, i as i32)),
            None => Err(Error::Conflict(format!(
                "the newest version of {}/{}.bas has no workflow {:?} to run; retry with \"version\": \"pinned\"",
                exec.bot,
                exec.script,
                exec.name.as_deref().unwrap_or_default()
            ))),
        }
    }
}

/// Which script versions an operator's retry runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetryVersion {
    /// The newest version of the execution's own script and of its children's scripts
    /// (an operator retries because they fixed something).
    #[default]
    Latest,
    /// The version the execution started on, and for each re-run `BOT` child the
    /// version the child before it ran.
    Pinned,
}
