//! Tries to break the promise that no input can crash or hang the language front-end
//! (docs/language.md, "no `panic!` reachable from input"): thousands of generated
//! programs — soups of the dialect's keywords, symbols and literals, random text, one
//! construct nested thousands deep, and corpus programs with lines and characters
//! deleted, duplicated and spliced together — go through `tokenize`, `parse` and
//! `compile`. Each must finish (a 2 s hang guard per program, not a speed assertion)
//! without a panic or a stack overflow, and every diagnostic must point inside the file.
//! Compiled mutants are also run under tight limits: no panic there either.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use botserver::basic::context::{Host, HostError, HostResult};
use botserver::basic::diagnostics::Diagnostic;
use botserver::basic::{compile, engine, parser, run_entry, tokenizer};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value as Json;

/// Time allowed to one program before it counts as a hang.
const HANG_GUARD: Duration = Duration::from_secs(2);

/// Case counts keep the whole file under a minute in a debug build; a longer hunt:
/// `FRONTEND_FUZZ_SCALE=50 cargo test --release --test frontend_fuzz`.
fn scaled(cases: u32) -> u32 {
    let scale = std::env::var("FRONTEND_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(1);
    cases.saturating_mul(scale.max(1))
}

/// The words of the dialect, its built-ins, some identifiers, and the unavailable
/// keywords, in the spellings scripts use.
const WORDS: &[&str] = &[
    "TALK",
    "HEAR",
    "AS",
    "STRING",
    "INTEGER",
    "NUMBER",
    "BOOLEAN",
    "DATE",
    "EMAIL",
    "IF",
    "THEN",
    "ELSE",
    "ELSEIF",
    "END",
    "FOR",
    "EACH",
    "IN",
    "TO",
    "STEP",
    "NEXT",
    "WHILE",
    "WEND",
    "DO",
    "LOOP",
    "UNTIL",
    "EXIT",
    "SELECT",
    "CASE",
    "IS",
    "SUB",
    "FUNCTION",
    "CALL",
    "RETURN",
    "WITH",
    "LET",
    "SET",
    "PRINT",
    "WAIT",
    "DELAY",
    "PARAM",
    "DESCRIPTION",
    "LIKE",
    "OPTIONAL",
    "REM",
    "AND",
    "OR",
    "NOT",
    "MOD",
    "TRUE",
    "FALSE",
    "NULL",
    "NOTHING",
    "BOT",
    "MEMORY",
    "GET",
    "SET_BOT_MEMORY",
    "GET_BOT_MEMORY",
    "CONTEXT",
    "SHARE",
    "SYNC",
    "ALL",
    "ORCHESTRATE",
    "WORKFLOW",
    "HUMAN",
    "APPROVAL",
    "FROM",
    "TIMEOUT",
    "ON",
    "ESCALATE",
    "MESSAGE",
    "PARALLEL",
    "BRANCH",
    "RETRY",
    "BACKOFF",
    "PUBLISH",
    "EVENT",
    "WHERE",
    "LLM",
    "FIND",
    "SAVE",
    "SEND",
    "USE",
    "KB",
    "TOOL",
    "NOW",
    "TODAY",
    "FORMAT",
    "RANDOM",
    "UUID",
    "LEN",
    "UCASE",
    "LCASE",
    "TRIM",
    "LEFT",
    "RIGHT",
    "MID",
    "INSTR",
    "REPLACE",
    "SPLIT",
    "JOIN",
    "VAL",
    "STR",
    "ISNULL",
    "FIRST",
    "LAST",
    "TOJSON",
    "FROMJSON",
    "ABS",
    "INT",
    "ROUND",
    "MIN",
    "MAX",
    "x",
    "y",
    "order",
    "total_1",
    "Ünïcode",
    "_",
    "a_",
    "step1",
    "result",
    "event",
    "V",
    "fn",
    "let",
    "this",
    "true",
];

/// Symbols, literals and the lexically interesting bits in between.
const PIECES: &[&str] = &[
    "+",
    "-",
    "*",
    "/",
    "\\",
    "^",
    "&",
    "=",
    "<>",
    "<",
    ">",
    "<=",
    ">=",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    ":",
    ";",
    "$",
    "#",
    "@",
    "?",
    "!",
    "`",
    "0",
    "1",
    "-1",
    "42",
    "007",
    "1.5",
    ".5",
    "1.",
    "1e3",
    "1e308",
    "1e999",
    "2.5e-3",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "99999999999999999999999",
    "\"\"",
    "\"text\"",
    "\"a\"\"b\"",
    "\"${x}\"",
    "\"${x + \"}\"",
    "\"${\"",
    "\"${}\"",
    "\"${{}}\"",
    "\"\\n\\t\\\\\\\"\"",
    "\"$\"",
    "\"\\",
    "\"unterminated",
    "'comment",
    "// comment",
    "REM remark",
    "\n",
    "\n",
    "\n",
    " _\n",
    ",\n",
    "\r\n",
    "\t",
    "  ",
    "\u{feff}",
    "é",
    "日本",
    "\u{0}",
    "\u{7f}",
    "\u{202e}",
    "𝔘",
];

fn token_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![select(WORDS), select(PIECES)];
    prop::collection::vec((piece, prop::bool::weighted(0.8)), 0..80).prop_map(|parts| {
        let mut s = String::new();
        for (p, space) in parts {
            s.push_str(p);
            if space {
                s.push(' ');
            }
        }
        s
    })
}

/// Statement-shaped lines, so that deeper parser paths are reached than with soup alone.
fn statement_soup() -> impl Strategy<Value = String> {
    let line = prop::collection::vec(prop_oneof![select(WORDS), select(PIECES)], 0..10)
        .prop_map(|parts| parts.join(" "));
    let opener = select(
        &[
            "IF x THEN",
            "FOR i = 1 TO 3",
            "FOR EACH v IN [1, 2]",
            "WHILE x < 3",
            "DO",
            "SELECT CASE x",
            "CASE 1",
            "CASE ELSE",
            "SUB s(a)",
            "FUNCTION f(a)",
            "WITH m",
            "ORCHESTRATE WORKFLOW \"w\"",
            "STEP 1:",
            "STEP a: PARALLEL",
            "BRANCH A:",
            "ON EVENT \"e\" DO",
            "HUMAN APPROVAL FROM \"a@b.c\"",
            "WAIT FOR EVENT \"e\"",
            "END IF",
            "NEXT",
            "WEND",
            "LOOP",
            "END SELECT",
            "END SUB",
            "END FUNCTION",
            "END WITH",
            "END WORKFLOW",
            "END PARALLEL",
            "END ON",
            "ELSE",
            "ELSEIF y THEN",
        ][..],
    );
    prop::collection::vec(prop_oneof![opener.prop_map(str::to_string), line], 0..30)
        .prop_map(|lines| lines.join("\n"))
}

/// One construct nested hundreds or thousands of times: the parser must stop with an
/// error, not overflow the 2 MiB stack of the thread it runs on (a stack overflow aborts
/// the whole process, server included).
fn deep_nesting() -> impl Strategy<Value = String> {
    let shape = select(
        &[
            ("x = ", "(", "1", ")"),
            ("x = ", "[", "1", "]"),
            ("x = ", "{a: ", "1", "}"),
            ("x = ", "LEN(", "1", ")"),
            ("x = ", "NOT ", "1", ""),
            ("x = ", "-", "1", ""),
            ("x = 2", "^2", "", ""),
            ("x = ", "\"${", "1", "}\""),
            ("", "IF 1 THEN\n", "TALK 1\n", "END IF\n"),
            ("", "FOR i = 1 TO 2\n", "TALK 1\n", "NEXT\n"),
            ("", "DO\n", "EXIT DO\n", "LOOP\n"),
            ("", "SELECT CASE 1\nCASE 1\n", "TALK 1\n", "END SELECT\n"),
            ("", "WHILE 1\n", "TALK 1\n", "WEND\n"),
            (
                "ORCHESTRATE WORKFLOW \"w\"\n",
                "STEP a: PARALLEL\nBRANCH A:\n",
                "TALK 1\n",
                "END PARALLEL\n",
            ),
        ][..],
    );
    (shape, 1..3000usize, any::<bool>()).prop_map(|((head, open, mid, close), n, closed)| {
        let mut s = String::from(head);
        s.push_str(&open.repeat(n));
        s.push_str(mid);
        if closed {
            s.push_str(&close.repeat(n));
        }
        s
    })
}

fn random_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~\n\t]{0,300}",
        "[\"'_${}()\\[\\],:;.\\\\ \nA-Za-z0-9]{0,300}",
        any::<String>(),
    ]
}

/// The corpus programs, read once.
fn corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let all: Vec<String> = common::corpus::all_sources()
            .into_iter()
            .map(|(_, text)| text)
            .collect();
        assert!(all.len() >= 70, "the corpus is too small to mutate");
        all
    })
}

/// One edit of a program; the numbers are reduced modulo the program's size.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLines(usize, usize),
    DuplicateLines(usize, usize),
    SwapLines(usize, usize),
    SpliceLines {
        from: usize,
        at: usize,
        start: usize,
        len: usize,
    },
    DeleteChars(usize, usize),
    DuplicateChars(usize, usize),
    InsertPiece(usize, &'static str),
    SpliceChars {
        from: usize,
        at: usize,
        start: usize,
        len: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let n = any::<usize>();
    prop_oneof![
        (n, 1..4usize).prop_map(|(a, l)| Mutation::DeleteLines(a, l)),
        (n, 1..4usize).prop_map(|(a, l)| Mutation::DuplicateLines(a, l)),
        (n, n).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (n, n, n, 1..6usize).prop_map(|(from, at, start, len)| Mutation::SpliceLines {
            from,
            at,
            start,
            len
        }),
        (n, 1..12usize).prop_map(|(a, l)| Mutation::DeleteChars(a, l)),
        (n, 1..12usize).prop_map(|(a, l)| Mutation::DuplicateChars(a, l)),
        (n, prop_oneof![select(WORDS), select(PIECES)])
            .prop_map(|(a, p)| Mutation::InsertPiece(a, p)),
        (n, n, n, 1..40usize).prop_map(|(from, at, start, len)| Mutation::SpliceChars {
            from,
            at,
            start,
            len
        }),
    ]
}

fn lines_of(s: &str) -> Vec<String> {
    s.split('\n').map(str::to_string).collect()
}

/// Byte offsets of the character boundaries of `s`, end included.
fn boundaries(s: &str) -> Vec<usize> {
    s.char_indices().map(|(i, _)| i).chain([s.len()]).collect()
}

fn apply(program: &str, m: &Mutation) -> String {
    let corpus = corpus();
    match *m {
        Mutation::DeleteLines(a, len) | Mutation::DuplicateLines(a, len) => {
            let mut lines = lines_of(program);
            let a = a % lines.len();
            let b = (a + len).min(lines.len());
            if matches!(m, Mutation::DeleteLines(..)) {
                lines.drain(a..b);
            } else {
                let copy: Vec<String> = lines[a..b].to_vec();
                lines.splice(b..b, copy);
            }
            lines.join("\n")
        }
        Mutation::SwapLines(a, b) => {
            let mut lines = lines_of(program);
            let n = lines.len();
            lines.swap(a % n, b % n);
            lines.join("\n")
        }
        Mutation::SpliceLines {
            from,
            at,
            start,
            len,
        } => {
            let other = lines_of(&corpus[from % corpus.len()]);
            let start = start % other.len();
            let piece: Vec<String> = other[start..(start + len).min(other.len())].to_vec();
            let mut lines = lines_of(program);
            let at = at % (lines.len() + 1);
            lines.splice(at..at, piece);
            lines.join("\n")
        }
        Mutation::DeleteChars(a, len) | Mutation::DuplicateChars(a, len) => {
            let b = boundaries(program);
            let i = a % b.len();
            let j = (i + len).min(b.len() - 1);
            let (x, y) = (b[i], b[j]);
            if matches!(m, Mutation::DeleteChars(..)) {
                format!("{}{}", &program[..x], &program[y..])
            } else {
                format!("{}{}", &program[..y], &program[x..])
            }
        }
        Mutation::InsertPiece(a, piece) => {
            let b = boundaries(program);
            let x = b[a % b.len()];
            format!("{}{piece}{}", &program[..x], &program[x..])
        }
        Mutation::SpliceChars {
            from,
            at,
            start,
            len,
        } => {
            let other = &corpus[from % corpus.len()];
            let ob = boundaries(other);
            let i = start % ob.len();
            let j = (i + len).min(ob.len() - 1);
            let b = boundaries(program);
            let x = b[at % b.len()];
            format!("{}{}{}", &program[..x], &other[ob[i]..ob[j]], &program[x..])
        }
    }
}

fn mutant() -> impl Strategy<Value = String> {
    (any::<usize>(), prop::collection::vec(mutation(), 1..6)).prop_map(|(i, ms)| {
        let corpus = corpus();
        let mut program = corpus[i % corpus.len()].clone();
        for m in &ms {
            program = apply(&program, m);
        }
        program
    })
}

/// The engine and limits shared by every case (building an engine per case would
/// dominate the run time).
fn shared_engine() -> Arc<(rhai::Engine, engine::Limits)> {
    static ENGINE: OnceLock<Arc<(rhai::Engine, engine::Limits)>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let limits = engine::Limits {
                max_operations: 20_000,
                max_run_time: Duration::from_millis(300),
                ..engine::Limits::default()
            };
            Arc::new((engine::new_engine(&limits), limits))
        })
        .clone()
}

/// A diagnostic must point at a line of the file (or just after its end), column 1 or
/// more — or carry no position at all.
fn check_position(source: &str, d: &Diagnostic) -> Result<(), String> {
    let lines = source.split('\n').count() as u32;
    let ok = (d.span.line >= 1 && d.span.line <= lines + 1 && d.span.col >= 1)
        || (d.span.line == 0 && d.span.col == 0);
    if ok {
        Ok(())
    } else {
        Err(format!("diagnostic outside the file ({lines} lines): {d}"))
    }
}

/// Tokenizes, parses and compiles `source` as the front-end does; `Err` describes a
/// broken property.
fn front_end(source: &str) -> Result<(), String> {
    match tokenizer::tokenize(source) {
        Ok(tokens) => {
            if let Err(errors) = parser::parse(tokens) {
                if errors.is_empty() {
                    return Err("parse failed without a diagnostic".to_string());
                }
                for d in &errors {
                    check_position(source, d)?;
                }
            }
        }
        Err(d) => check_position(source, &d)?,
    }
    let shared = shared_engine();
    let (engine, limits) = &*shared;
    match compile(engine, source, limits) {
        Ok(script) => {
            for d in &script.warnings {
                check_position(source, d)?;
            }
        }
        Err(diags) => {
            if diags.0.is_empty() {
                return Err("compile failed without a diagnostic".to_string());
            }
            for d in &diags.0 {
                check_position(source, d)?;
                if d.message.contains("internal error") {
                    return Err(format!("the front-end generated invalid code: {d}"));
                }
            }
        }
    }
    Ok(())
}

/// A host that answers nothing and never waits: HEAR fails, WAIT returns at once.
struct QuietHost {
    memory: HashMap<String, Json>,
}

impl Host for QuietHost {
    fn talk(&mut self, _text: &str) -> HostResult<()> {
        Ok(())
    }
    fn hear(&mut self) -> HostResult<String> {
        Err(HostError::Fail("no input".to_string()))
    }
    fn print(&mut self, _text: &str) {}
    fn sleep(&mut self, _secs: f64) -> HostResult<()> {
        Ok(())
    }
    fn now(&mut self) -> HostResult<chrono::DateTime<chrono::Utc>> {
        Ok(chrono::Utc::now())
    }
    fn random(&mut self) -> HostResult<f64> {
        Ok(0.5)
    }
    fn uuid(&mut self) -> HostResult<String> {
        Ok("00000000-0000-7000-8000-000000000000".to_string())
    }
    fn memory_get(&mut self, key: &str) -> HostResult<Json> {
        Ok(self.memory.get(key).cloned().unwrap_or(Json::Null))
    }
    fn memory_set(&mut self, key: &str, value: Json) -> HostResult<()> {
        self.memory.insert(key.to_string(), value);
        Ok(())
    }
    fn set_context(&mut self, _key: &str, _value: Json) -> HostResult<()> {
        Ok(())
    }
    fn set_result(&mut self, _value: Json) {}
}

/// Compiles `source` and, when it compiles, runs its main entry under tight limits.
fn compile_and_run(source: &str) -> Result<(), String> {
    let shared = shared_engine();
    let (engine, limits) = &*shared;
    let Ok(script) = compile(engine, source, limits) else {
        return Ok(());
    };
    let mut host = QuietHost {
        memory: HashMap::new(),
    };
    let _ = run_entry(
        engine,
        &script,
        0,
        &Json::Object(Default::default()),
        &mut host,
    );
    Ok(())
}

/// Runs `f(source)` on its own thread: a panic or a hang is a failure with the program.
fn guarded(source: &str, f: fn(&str) -> Result<(), String>) -> Result<(), TestCaseError> {
    let (tx, rx) = mpsc::channel();
    let owned = source.to_string();
    std::thread::spawn(move || {
        let _ = tx.send(f(&owned));
    });
    let outcome = match rx.recv_timeout(HANG_GUARD) {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(broken)) => broken,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            format!("did not finish within {} s", HANG_GUARD.as_secs())
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => "panicked".to_string(),
    };
    Err(TestCaseError::fail(format!(
        "{outcome}\nprogram ({} bytes):\n{source:?}",
        source.len()
    )))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: scaled(4000),
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn token_soup_never_crashes_the_front_end(source in token_soup()) {
        guarded(&source, front_end)?;
    }

    #[test]
    fn statement_soup_never_crashes_the_front_end(source in statement_soup()) {
        guarded(&source, front_end)?;
    }

    #[test]
    fn corpus_mutants_never_crash_the_front_end(source in mutant()) {
        guarded(&source, front_end)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: scaled(3000),
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_text_never_crashes_the_front_end(source in random_text()) {
        guarded(&source, front_end)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: scaled(300),
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn deep_nesting_is_an_error_not_a_crash(source in deep_nesting()) {
        guarded(&source, front_end)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: scaled(1500),
        max_shrink_iters: 500,
        ..ProptestConfig::default()
    })]

    #[test]
    fn corpus_mutants_never_crash_when_run(source in mutant()) {
        guarded(&source, compile_and_run)?;
    }
}

/// Every corpus program itself passes the properties (a baseline for the mutants).
#[test]
fn corpus_programs_pass_the_front_end_properties() {
    for program in corpus() {
        if let Err(e) = guarded(program, front_end) {
            panic!("{e}");
        }
    }
}
