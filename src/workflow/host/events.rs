//! `PUBLISH EVENT` and `WAIT FOR EVENT` (see `basic/keywords/events.rs`; the race-free
//! protocol between the two is described in `db/events.rs`).

use chrono::Utc;
use serde_json::{json, Value as Json};

use super::{after_secs, DurableHost, EventRegistration, Wait};
use crate::basic::context::{ApprovalRequest, EventWait, HostError, HostResult};
use crate::db::events;
use crate::db::states::{ExecKind, StepKind, WaitingFor};
use crate::workflow::journal::{Cursor, Journaled, Op};

impl DurableHost<'_> {
    /// Publishes an event in the run's transaction; what it wakes or starts and this
    /// instance claimed runs here after the commit.
    pub(super) fn publish_now(&mut self, name: &str, payload: Json) -> HostResult<()> {
        self.in_transaction("PUBLISH EVENT")?;
        let exec = self.exec;
        // An ON EVENT handler's events are one link further down its event's chain; a
        // chain longer than the limit (a handler that publishes its own event, or a
        // loop of handlers) stops here.
        let chain = if exec.kind == ExecKind::Handler {
            let r = events::chain_of(self.conn, exec.id);
            self.db(r)? + 1
        } else {
            0
        };
        let max = self.rt.config.max_event_chain;
        if chain as usize > max {
            return Err(HostError::Fail(format!(
                "PUBLISH EVENT \"{name}\": this would be the {chain}th event of a chain of ON EVENT \
                 handlers, over the limit of {max} (BOTSERVER_MAX_EVENT_CHAIN); does a handler \
                 publish the event it handles?"
            )));
        }
        let r = crate::workflow::claims::publish(
            self.conn,
            name,
            &payload,
            crate::workflow::claims::Source {
                bot: Some(&exec.bot),
                execution: Some(exec.id),
                conversation: exec.conversation(),
                chain,
            },
            self.rt.claimer().as_ref(),
        );
        let published = self.db(r)?;
        self.out.run_beside.extend(published.claimed);
        self.out.unowned_spawned |= published.unclaimed;
        Ok(())
    }

    /// Removes a wait an earlier run registered (when a timer or another wake-up, not a
    /// publisher, made it run again), while this run holds the names' locks.
    fn clear_event_wait(&mut self) -> HostResult<()> {
        if self.out.wait_cleared {
            return Ok(());
        }
        self.in_transaction("WAIT FOR EVENT")?;
        let r = events::clear_wait(self.conn, self.exec.id);
        self.db(r)?;
        self.out.wait_cleared = true;
        Ok(())
    }

    /// `PUBLISH EVENT`: published once.
    pub(super) fn k_publish(&mut self, name: &str, payload: Json) -> HostResult<()> {
        self.journaled(Op::Publish, |h| {
            let max = h.rt.config.max_publish_per_run;
            if h.published >= max {
                return Err(HostError::Fail(format!(
                    "PUBLISH EVENT \"{name}\": this run has already published {max} events, the \
                     limit (BOTSERVER_MAX_PUBLISH_PER_RUN)"
                )));
            }
            h.published += 1;
            h.publish_now(name, payload).map(|()| true)
        })
        .map(|_| ())
    }

    /// `WAIT FOR EVENT`: the first event of its names published after the wait began
    /// that passes `filter`; else a registered wait (with its timeout as a timer); at
    /// the timeout, NULL, a `timeout_occurred` event and the escalation, if any.
    pub(super) fn k_wait_event(
        &mut self,
        wait: &EventWait,
        filter: &mut dyn FnMut(&Json) -> Result<bool, String>,
    ) -> HostResult<Json> {
        let key = self.next_key(Op::Event);
        self.set_step_kind(StepKind::Event);
        if let Some(v) = self.journal.raw(&key) {
            // A run with a transaction removes any wait still registered when it ends. An
            // optimistic run has none to remove: an event is journaled by the statement
            // that removes the wait (the publisher's delivery, or a run's
            // `clear_event_wait` in its commit), so a wait answered from the journal is
            // registered no more.
            self.out.used_event_wait |= !self.optimistic;
            return Ok(v.clone());
        }
        self.in_transaction("WAIT FOR EVENT")?;
        self.out.used_event_wait = true;
        let cursor_key = key.cursor();
        // A run woken by a publish finds its event at once: that needs no lock, because
        // nothing is registered then. Only when no event matches (or on the first
        // arrival, for the cursor) are the names' locks taken and the search finished
        // under them.
        if self.journal.has(&cursor_key) {
            let cursor = self
                .journal
                .get::<Cursor>(&cursor_key)
                .unwrap_or_default()
                .cursor;
            let r = events::after(self.conn, &wait.names, cursor, 500);
            let batch = self.db(r)?;
            for ev in batch {
                let value = ev.to_script_value();
                if filter(&value).map_err(HostError::Fail)? {
                    self.clear_event_wait()?;
                    self.journal.record(key, &value)?;
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
        let Cursor { cursor, deadline } = if self.journal.has(&cursor_key) {
            self.journal.get::<Cursor>(&cursor_key).unwrap_or_default()
        } else {
            let r = events::cursor(self.conn, &wait.names);
            let started = Cursor {
                cursor: self.db(r)?,
                deadline: wait.timeout_secs.map(|t| after_secs(self.now, t)),
            };
            self.journal.record(cursor_key.clone(), &started)?;
            started
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
                    self.journal.record(key, &value)?;
                    return Ok(value);
                }
            }
        }
        if deadline.is_some_and(|d| Utc::now() >= d) {
            self.clear_event_wait()?;
            self.journal.record(key.clone(), &Json::Null)?;
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
                self.new_approval(&key.escalation(), 1, who, &req)?;
            }
            return Ok(Json::Null);
        }
        self.suspend_with(Wait {
            waiting_for: WaitingFor::Event {
                key: key.to_string(),
                names: wait.names.clone(),
            },
            wake_at: deadline,
            event: Some(EventRegistration {
                key: key.to_string(),
                names: wait.names.clone(),
                cursor: scanned,
                deliver: wait.names.len() == 1 && !wait.filtered,
            }),
        })
    }
}
