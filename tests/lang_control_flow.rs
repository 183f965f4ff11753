//! Tries to break the control-flow statements of docs/language.md: block, `ELSEIF` and one-line
//! `IF`, `FOR … STEP`, `FOR EACH`, `EXIT FOR`, `WHILE … WEND`, `DO WHILE/UNTIL … LOOP
//! [UNTIL]`, `EXIT DO`, `SELECT CASE` with values, ranges, `IS` and `CASE ELSE`, and a
//! top-level `RETURN`; misuse must give one precise error, not a cascade.
//! Programs and expected output: `tests/corpus/control_flow/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn control_flow_corpus() {
    common::corpus::run_feature("control_flow");
}
