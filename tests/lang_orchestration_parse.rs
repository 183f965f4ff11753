//! Tries to break the parsing of the orchestration extension (docs/language.md): the docs/language.md
//! example and its variants (lower-case keywords, `STEP label:` blocks, clause lines,
//! expressions as arguments, a missing `END WORKFLOW`) must pass `check`; duplicate step
//! labels, `BRANCH` outside `PARALLEL`, a missing `END PARALLEL`, `TIMEOUT` without a
//! number and the like must be errors at their position; and `run`, which has no server,
//! must stop at the first keyword that needs one with "… needs the server" and its
//! position, never skip it silently.
//! Programs and expected output: `tests/corpus/orchestration_parse/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn orchestration_parse_corpus() {
    common::corpus::run_feature("orchestration_parse");
}
