//! Tries to break the parsing of the event keywords (docs/language.md): `ON EVENT … END ON`
//! handlers (registered, not run by the main body), `PUBLISH EVENT … WITH`, `WAIT FOR
//! EVENT … OR … WHERE … TIMEOUT … ON TIMEOUT: ESCALATE TO` with clause lines, event names
//! of 1–128 allowed characters (checked at compile time for literals, at run time for
//! expressions), and "… needs the server" with a position when run without one.
//! Programs and expected output: `tests/corpus/events_parse/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn events_parse_corpus() {
    common::corpus::run_feature("events_parse");
}
