//! Tries to break the General Bots dialect as real scripts write it: the keyword catalog
//! (statement and value forms, both spellings, arguments over lines), the built-ins,
//! text blocks, context forms, soft keywords, TABLE definitions, Rhai forms, IS NULL,
//! SWITCH and the loop forms, HEAR forms, comments and multi-line strings, and the
//! orchestration forms. Programs and expected output: `tests/corpus/gb_dialect/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn gb_dialect_corpus() {
    common::corpus::run_feature("gb_dialect");
}
