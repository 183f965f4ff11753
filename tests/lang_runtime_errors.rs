//! Tries to break the promise that a failing script stops with a clear message at the
//! `.bas` line and column where it failed (docs/language.md): division by zero (`/ \ MOD`),
//! comparing or combining incompatible types, bad list indexes, errors inside functions,
//! interpolations, one-line IFs and continued lines, and keywords that are unavailable or
//! need the server — reported where they happen, also inside a SUB or FUNCTION.
//! Programs and expected output: `tests/corpus/runtime_errors/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn runtime_errors_corpus() {
    common::corpus::run_feature("runtime_errors");
}
