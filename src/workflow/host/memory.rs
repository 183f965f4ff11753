//! `GET`/`SET BOT MEMORY`, `SET CONTEXT`, `BOT SHARE MEMORY`, `BOT SYNC MEMORY` (see
//! `basic/keywords/memory.rs`): database writes in the run's transaction, journaled so
//! that each happens once.

use serde_json::Value as Json;

use super::DurableHost;
use crate::basic::context::{HostError, HostResult};
use crate::db::memory;
use crate::db::messages;
use crate::workflow::journal::{Journaled, Op};

impl DurableHost<'_> {
    /// `GET BOT MEMORY`: read once; a replay sees the value the first run read. In a
    /// script that also writes bot memory the key is held until the run commits, so a
    /// read-modify-write (`g = GET BOT MEMORY("g")` … `SET BOT MEMORY "g", g + 1`) in one
    /// run never loses a concurrent run's update.
    pub(super) fn k_memory_get(&mut self, key: &str) -> HostResult<Json> {
        let hold = self
            .rt
            .cache
            .get(&self.exec.script_hash)
            .is_none_or(|s| s.entries.iter().any(|e| e.effects.writes_memory()));
        self.journaled(Op::MemoryGet, |h| {
            h.in_transaction("GET BOT MEMORY")?;
            let r = if hold {
                memory::get_locked(h.conn, &h.exec.bot, key)
            } else {
                memory::get(h.conn, &h.exec.bot, key)
            };
            Ok(h.db(r)?.unwrap_or(Json::Null))
        })
    }

    /// `SET BOT MEMORY`: written once.
    pub(super) fn k_memory_set(&mut self, key: &str, value: Json) -> HostResult<()> {
        self.journaled(Op::MemorySet, |h| {
            h.in_transaction("SET BOT MEMORY")?;
            let r = memory::set(h.conn, &h.exec.bot, key, &value);
            h.db(r).map(|()| true)
        })
        .map(|_| ())
    }

    /// `SET CONTEXT`: written once, into the conversation's context.
    pub(super) fn k_set_context(&mut self, key: &str, value: Json) -> HostResult<()> {
        self.journaled(Op::Context, |h| {
            h.in_transaction("SET CONTEXT")?;
            let r = messages::set_context(h.conn, h.exec.talk_target(), key, &value);
            h.db(r).map(|()| true)
        })
        .map(|_| ())
    }

    /// `BOT SHARE MEMORY`: shared once.
    pub(super) fn k_share_memory(&mut self, key: &str, target: Option<&str>) -> HostResult<()> {
        self.journaled(Op::Share, |h| {
            h.in_transaction("BOT SHARE MEMORY")?;
            if let Some(t) = target {
                if !h.rt.has_bot(t) {
                    return Err(HostError::Fail(format!(
                        "BOT SHARE MEMORY: unknown bot '{t}'"
                    )));
                }
            }
            let exec = h.exec;
            let bot = &exec.bot;
            let r = memory::share(h.conn, bot, target.unwrap_or("*"), key);
            if !h.db(r)? {
                return Err(HostError::Fail(format!(
                    "BOT SHARE MEMORY: bot '{bot}' has no value for '{key}' to share"
                )));
            }
            Ok(true)
        })
        .map(|_| ())
    }

    /// `BOT SYNC MEMORY`: synced once; the number of keys changed.
    pub(super) fn k_sync_memory(&mut self, from: Option<&str>) -> HostResult<i64> {
        self.journaled(Op::Sync, |h| {
            h.in_transaction("BOT SYNC MEMORY")?;
            if let Some(f) = from {
                if !h.rt.has_bot(f) {
                    return Err(HostError::Fail(format!(
                        "BOT SYNC MEMORY: unknown bot '{f}'"
                    )));
                }
            }
            let r = memory::sync(h.conn, &h.exec.bot, from);
            h.db(r)
        })
    }
}
