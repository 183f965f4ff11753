//! Tries to break the promise that `check` reports every problem of a script like a
//! compiler — `file:line:col: error|warning: message`, the source line and a caret — at
//! the right place and without cascades: unterminated strings, blocks left open (END IF,
//! NEXT, WEND, LOOP, END SELECT, END PARALLEL), unknown statements and functions, wrong
//! argument counts, several errors in one file; and that keywords of the wider General
//! Bots dialect (LLM, FIND, SAVE, SEND EMAIL, USE KB, USE TOOL, GET) parse with a warning
//! and fail with "not available on this server" only when run.
//! Programs and expected output: `tests/corpus/diagnostics/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

mod common;

#[test]
fn diagnostics_corpus() {
    common::corpus::run_feature("diagnostics");
}

/// The whole rendering of one diagnostic, as `botserver check` prints it.
#[test]
fn check_renders_source_line_and_caret() {
    let path = common::corpus::corpus_root()
        .join("diagnostics")
        .join("unknown_function.bas");
    let mut out = Vec::new();
    let summary =
        botserver::cli::check::check_paths(std::slice::from_ref(&path), &mut out).unwrap();
    assert_eq!((summary.files, summary.errors, summary.warnings), (1, 2, 0));
    let shown = path.display();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(
            "{shown}:1:5: error: unknown function 'frob'\n  x = FROB(1)\n      ^\n\
             {shown}:2:9: error: unknown function 'unknown'\n  y = LEN(Unknown(2))\n          ^\n"
        )
    );
}

/// A missing file is an error of `check`, not a panic.
#[test]
fn check_reports_a_missing_file() {
    let path = PathBuf::from("/nonexistent/never.bas");
    let mut out = Vec::new();
    let summary = botserver::cli::check::check_paths(&[path], &mut out).unwrap();
    assert_eq!(summary.errors, 1);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "/nonexistent/never.bas: error: no such file or directory\n"
    );
}

/// `run` prints a runtime error with the source line and a caret on stderr and exits 1,
/// after the output produced before it.
#[test]
fn run_renders_runtime_error() {
    let path = common::corpus::corpus_root()
        .join("runtime_errors")
        .join("division_by_zero.bas");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = botserver::cli::run::run_file(&path, &b""[..], &mut out, &mut err).unwrap();
    assert_eq!(code, 1);
    assert_eq!(String::from_utf8(out).unwrap(), "before\n");
    assert_eq!(
        String::from_utf8(err).unwrap(),
        format!(
            "{}:4:8: error: division by zero\n  TALK x / y\n         ^\n",
            path.display()
        )
    );
}
