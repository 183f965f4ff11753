//! The data keywords over the journal (see `basic/keywords/data.rs`, `data/ops.rs`): the
//! statement runs in the run's transaction and its answer — rows, a row, a count — is
//! journaled with it, so a write commits once with its journal entry, and a replay
//! answers from the journal without touching the table again.

use serde_json::Value as Json;

use super::DurableHost;
use crate::basic::context::{DataCall, HostError, HostResult};
use crate::data::ops::{self, DataError};
use crate::workflow::journal::{Journaled, Op};

impl DurableHost<'_> {
    /// `FIND`, `SAVE`, `INSERT`, `UPDATE`, `DELETE`, `MERGE`.
    pub(super) fn k_data(&mut self, call: &DataCall) -> HostResult<Json> {
        self.journaled(Op::Data, |h| {
            h.in_transaction("a table keyword")?;
            let max_rows = h.rt.config.find_max_rows;
            match ops::run(h.conn, &h.exec.bot, call, max_rows) {
                Ok(v) => Ok(v),
                Err(DataError::Script(m)) => Err(HostError::Fail(m)),
                Err(DataError::Database(e)) => h.db(Err(e.into())),
            }
        })
    }
}
