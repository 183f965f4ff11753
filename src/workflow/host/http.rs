//! HTTP keywords over the journal (see `basic/keywords/http.rs`): the answer of a request
//! is journaled, so a replay answers from the journal and never requests again. A crash
//! after the request and before the run's commit repeats it; every request carries an
//! `Idempotency-Key` made of the execution's id and the journal key, the same on every
//! repeat, so the receiving service can drop the duplicate.

use serde_json::Value as Json;

use super::DurableHost;
use crate::basic::context::{HostError, HostResult, HttpCall};
use crate::workflow::journal::{Journaled, Op};

impl DurableHost<'_> {
    /// `GET CONFIG name`: the bot's config.csv value, journaled so that a replay sees the
    /// value the first run saw even if the file changed since.
    pub(super) fn k_config(&mut self, key: &str) -> HostResult<Json> {
        self.journaled(Op::Config, |h| {
            Ok(h.rt
                .config_value(&h.exec.bot, key)
                .map_or(Json::Null, Json::String))
        })
    }

    /// `GET url`, `POST url, body`, …: the answer's body, journaled.
    pub(super) fn k_http(&mut self, call: &HttpCall) -> HostResult<Json> {
        self.journaled_keyed(Op::Http, |h, key| {
            let policy = h.rt.http_policy(&h.exec.bot).map_err(HostError::Fail)?;
            let idempotency_key = format!("{}/{key}", h.exec.id);
            crate::http::call(&policy, call, &idempotency_key).map_err(HostError::Fail)
        })
    }
}
