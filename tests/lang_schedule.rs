//! Tries to break the compile of `SET SCHEDULE` (docs/language.md): every accepted form
//! checks clean and runs as nothing, and a bad cron, an unknown plain-English form, an
//! out-of-range number, a schedule that is no plain text, one inside a block — each is an
//! error at its line and column saying what is accepted; a schedule below other
//! statements, or a second one, is a warning. Programs and expected output:
//! `tests/corpus/schedule/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn schedule_corpus() {
    common::corpus::run_feature("schedule");
}
