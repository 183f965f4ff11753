//! `SEND MAIL` over the journal (see `basic/keywords/mail.rs`, `src/mail/`): the message
//! is sent, and its `Message-ID` journaled, so a replay never sends it again. A crash
//! after sending and before the run's commit sends it again, with the same `Message-ID`
//! (made of the execution's id and the journal key), so the repeat is recognisable.

use serde_json::Value as Json;

use super::DurableHost;
use crate::basic::context::{HostError, HostResult, MailCall};
use crate::workflow::journal::{Journaled, Op};

impl DurableHost<'_> {
    pub(super) fn k_send_mail(&mut self, mail: &MailCall) -> HostResult<Json> {
        self.journaled_keyed(Op::Mail, |h, key| {
            let bot = &h.exec.bot;
            let cfg =
                crate::mail::config(|k| h.rt.config_value(bot, k)).map_err(HostError::Fail)?;
            let id = message_id(&h.exec.id.to_string(), key.as_str());
            crate::mail::send(&cfg, mail, &id, crate::mail::TIMEOUT).map_err(HostError::Fail)?;
            Ok(id)
        })
        .map(|_| Json::String("sent".to_string()))
    }
}

/// `<execution.key@botserver>`, the key's characters kept where a Message-ID allows them.
fn message_id(execution: &str, key: &str) -> String {
    let key: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "#-_=.".contains(c) {
                c
            } else {
                '.'
            }
        })
        .collect();
    format!("<{execution}.{key}@botserver>")
}

#[cfg(test)]
mod tests {
    #[test]
    fn message_ids_are_the_execution_and_the_key() {
        assert_eq!(
            super::message_id("0193", "2/mail#1"),
            "<0193.2.mail#1@botserver>"
        );
    }
}
