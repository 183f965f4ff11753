//! Tries to break the conversation keywords of docs/language.md: `TALK` (one line per message),
//! `HEAR` with every type (STRING INTEGER NUMBER BOOLEAN DATE EMAIL and their synonyms)
//! re-asking on invalid input until a valid answer — or failing with a position when the
//! input ends — `SET/GET BOT MEMORY` (also `SET_BOT_MEMORY`/`GET_BOT_MEMORY`), `PRINT`,
//! `WAIT`/`DELAY` and the `PARAM`/`DESCRIPTION` declarations.
//! Programs, their input (`.in`) and expected output: `tests/corpus/conversation/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn conversation_corpus() {
    common::corpus::run_feature("conversation");
}
