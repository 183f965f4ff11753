//! Tries to break the sandbox (docs/language.md, Limits): endless loops (also inside a function
//! or one that resets its FOR variable) must stop with the operations-limit error, endless
//! recursion (direct or mutual) with the call-depth error, growing strings, lists and maps
//! with a size error, built-ins whose output multiplies (REPLACE, JOIN) before they
//! exhaust memory, and loops whose every operation copies a large value with the
//! computing-time limit — each with a clear message, in seconds, not minutes.
//! Programs and expected output: `tests/corpus/limits/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn limits_corpus() {
    common::corpus::run_feature("limits");
}
