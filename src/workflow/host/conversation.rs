//! `TALK`, `HEAR`, `PRINT`, `WAIT` (see `basic/keywords/conversation.rs`).

use super::DurableHost;
use crate::basic::context::{HostError, HostResult};
use crate::db::states::{ExecKind, StepKind, WaitingFor};
use crate::workflow::journal::{Journaled, Op};

impl DurableHost<'_> {
    /// `TALK`: recorded once; a replayed one counts towards the execution's talks only.
    /// An execution's output is bounded (messages and bytes, over all its runs): the
    /// `TALK` that would pass a limit fails the run, naming the limit.
    pub(super) fn k_talk(&mut self, text: &str) -> HostResult<()> {
        let key = self.next_key(Op::Talk);
        let (max_talks, max_bytes) = (self.rt.config.max_talks, self.rt.config.max_output_bytes);
        if self.out.all_talks.len() >= max_talks {
            return Err(HostError::Fail(format!(
                "TALK: this execution has already said {max_talks} messages, the limit \
                 (BOTSERVER_MAX_TALKS)"
            )));
        }
        if self.talk_bytes + text.len() > max_bytes {
            return Err(HostError::Fail(format!(
                "TALK: {} more bytes would pass this execution's output limit of {max_bytes} \
                 bytes (BOTSERVER_MAX_OUTPUT_BYTES); it has said {} bytes",
                text.len(),
                self.talk_bytes
            )));
        }
        self.talk_bytes += text.len();
        self.out.all_talks.push(text.to_string());
        if self.journal.has(&key) {
            return Ok(());
        }
        self.journal.record(key, &text)?;
        self.out.new_talks.push(text.to_string());
        Ok(())
    }

    /// `HEAR`: the message delivered under its key, else a wait for it.
    pub(super) fn k_hear(&mut self) -> HostResult<String> {
        let key = self.next_key(Op::Hear);
        if let Some(v) = self.journal.raw(&key) {
            return Ok(v.as_str().unwrap_or_default().to_string());
        }
        if self.exec.kind != ExecKind::Conversation {
            return Err(HostError::Fail(format!(
                "HEAR needs a conversation; this execution is a {}",
                self.exec.kind
            )));
        }
        self.suspend(
            WaitingFor::Message {
                key: key.to_string(),
            },
            None,
        )
    }

    /// `PRINT`: a line in the server log.
    pub(super) fn k_print(&mut self, text: &str) {
        tracing::info!(bot = %self.exec.bot, execution = %self.exec.id, "PRINT {text}");
    }

    /// `WAIT` / `DELAY`: a journaled timer.
    pub(super) fn k_sleep(&mut self, secs: f64) -> HostResult<()> {
        let key = self.next_key(Op::Sleep);
        self.set_step_kind(StepKind::Delay);
        self.timer(key, secs)
    }
}
