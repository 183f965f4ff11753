//! Tries to break the expression rules of docs/language.md: every operator (`+ - * / \ MOD ^ &`)
//! with its precedence, `+` concatenating when either side is a string, comparisons across
//! types, `AND OR NOT` (short-circuiting) and truthiness, member access and 0-based
//! indexing, and `NULL` — not a crash — for unset variables and missing members.
//! Programs and expected output: `tests/corpus/expressions/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn expressions_corpus() {
    common::corpus::run_feature("expressions");
}
