//! Tries to break the lexical rules of docs/language.md: comments (`'`, `//`, `REM`) that must
//! not eat strings, case-insensitive keywords and names, line continuation with `_` and a
//! trailing `,`, strings with `""`, backslash escapes, `$` and `${expr}` interpolation,
//! numbers shown as `8` and `9.5`, and the literals `TRUE FALSE NULL [..] {..}`.
//! Programs and expected output: `tests/corpus/lexical/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn lexical_corpus() {
    common::corpus::run_feature("lexical");
}
