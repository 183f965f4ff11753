//! Tries to break the built-in functions of docs/language.md — NOW TODAY FORMAT RANDOM UUID LEN
//! UCASE LCASE TRIM LEFT RIGHT MID INSTR REPLACE SPLIT JOIN VAL STR ISNULL FIRST LAST
//! TOJSON FROMJSON ABS INT ROUND MIN MAX and the extras — with edge cases (empty and
//! out-of-range arguments, Unicode, NULL) and bad arguments that must fail with the
//! call's position. NOW, TODAY, RANDOM and UUID are checked by shape, not by value.
//! Programs and expected output: `tests/corpus/builtins/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn builtins_corpus() {
    common::corpus::run_feature("builtins");
}
