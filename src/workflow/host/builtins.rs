//! The built-ins that ask the host, journaled so that a replay sees the same values:
//! `NOW()`/`TODAY()`, `RANDOM()`, `UUID()` (see `basic/keywords/builtins.rs`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::DurableHost;
use crate::basic::context::HostResult;
use crate::workflow::journal::{Journaled, Op, Stamp};

impl DurableHost<'_> {
    /// `NOW()`/`TODAY()`: the time, the same on every replay.
    pub(super) fn b_now(&mut self) -> HostResult<DateTime<Utc>> {
        self.journaled(Op::Now, |_| Ok(Stamp(Utc::now())))
            .map(|s| s.0)
    }

    /// `RANDOM()`: the same number on every replay.
    pub(super) fn b_random(&mut self) -> HostResult<f64> {
        self.journaled(Op::Random, |_| Ok(rand::random::<f64>()))
    }

    /// `UUID()`: the same id on every replay.
    pub(super) fn b_uuid(&mut self) -> HostResult<String> {
        self.journaled(Op::Uuid, |_| Ok(Uuid::now_v7().to_string()))
    }
}
