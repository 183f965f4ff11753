//! Tries to break procedures and object building (docs/language.md): `SUB`, `FUNCTION`, `CALL`,
//! `RETURN` from any depth, recursion, local scope and by-value arguments, declaration
//! after use, `WITH … END WITH`, `LET`/`SET` assignment; arity and placement errors must
//! be reported at the call or declaration.
//! Programs and expected output: `tests/corpus/procedures/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn procedures_corpus() {
    common::corpus::run_feature("procedures");
}
