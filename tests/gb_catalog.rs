//! Tries to mis-run a General Bots keyword silently: every row of the keyword catalog
//! (`src/basic/keywords/catalog.rs`) goes through `check` and `run` in its statement and
//! value forms and both spellings. A keyword this server provides must check clean and
//! run (or stop with an error that names it or the server it needs); one it does not
//! provide must check with a warning naming it and fail when run with "… is not
//! available on this server". A property test then does the same with random letter
//! case, random arguments and random statements around it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use botserver::basic::keywords::catalog::{Form, Keyword, KEYWORDS};
use common::corpus::{check_and_run_guarded, Seen};
use proptest::prelude::*;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Checks and runs `source` as a file of its own.
fn try_program(source: &str, input: &str) -> Seen {
    let dir = std::env::temp_dir().join(format!("botserver-catalog-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(format!("p{}.bas", NEXT.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&path, source).unwrap();
    let seen = check_and_run_guarded(&path, source, input)
        .unwrap_or_else(|e| panic!("{e}\nprogram:\n{source}"));
    let _ = std::fs::remove_file(&path);
    seen
}

/// A program that uses a provided keyword, and the input it reads.
fn provided_program(k: &Keyword) -> (String, &'static str) {
    let p = match k.words {
        "TALK" => "TALK \"Hello\"\n",
        "HEAR" => return ("HEAR name\nTALK name\nx = HEAR\nTALK x\n".into(), "Ana\nBo\n"),
        "PRINT" => "PRINT \"log line\"\n",
        "WAIT" => "WAIT 0\n",
        "DELAY" => "DELAY 0\n",
        "PARAM" => "PARAM name AS STRING LIKE \"Ana\" DESCRIPTION \"who\"\n",
        "DESCRIPTION" => "DESCRIPTION \"Looks up an order\"\nDESCRIPTION Looks up an order\n",
        "BEGIN TALK" => "BEGIN TALK\n  Hi ${1 + 1}, it's \"me\"\nEND TALK\n",
        "BEGIN SYSTEM PROMPT" => "BEGIN SYSTEM PROMPT\n  Be brief.\nEND SYSTEM PROMPT\n",
        "SET BOT MEMORY" => "SET BOT MEMORY \"k\", 1\nSET_BOT_MEMORY \"j\", 2\nTALK GET BOT MEMORY(\"k\")\n",
        "GET CONFIG" => "x = GET CONFIG \"api-url\"\n",
        "GET BOT MEMORY" => "x = GET BOT MEMORY(\"k\")\ny = GET_BOT_MEMORY(\"k\")\n",
        "SET CONTEXT" => "SET CONTEXT \"topic\" AS \"billing\"\nSET_CONTEXT \"a\", 1\n",
        "BOT SHARE MEMORY" => "SET BOT MEMORY \"k\", 1\nBOT SHARE MEMORY \"k\" WITH \"other\"\n",
        "BOT SYNC MEMORY" => "BOT SYNC MEMORY FROM \"other\"\n",
        "ORCHESTRATE WORKFLOW" => "ORCHESTRATE WORKFLOW \"w\"\n  STEP 1: TALK \"x\"\nEND WORKFLOW\n",
        "STEP" => "ORCHESTRATE WORKFLOW \"w\"\n  STEP a: TALK \"x\"\n    RETRY 2\nEND WORKFLOW\n",
        "HUMAN APPROVAL" => "ORCHESTRATE WORKFLOW \"w\"\n  STEP 1: HUMAN APPROVAL FROM \"a@b.c\"\n    TIMEOUT 60\n    ON TIMEOUT: APPROVE\nEND WORKFLOW\n",
        "BOT" => "x = BOT \"helper\" \"do it\"\n",
        "PUBLISH EVENT" => "PUBLISH EVENT \"done\" WITH { n: 1 }\n",
        "WAIT FOR EVENT" => "WAIT FOR EVENT \"done\" TIMEOUT 1\n",
        "ON EVENT" => "ON EVENT \"done\" DO\n  TALK event.name\nEND ON\nTALK \"ready\"\n",
        "NEW OBJECT" => "o = NEW OBJECT\no.a = 1\nTALK o.a\n",
        "THROW" => "TRY\n  THROW \"oops\"\nCATCH\n  TALK \"caught \" & err\nEND TRY\n",
        "RAISE" => "RAISE \"RAISE stops the run here\"\n",
        // Loopback is refused without an allow-list entry: the run stops naming the method.
        "GET" => "x = GET \"http://127.0.0.1:9/items\"\n",
        "POST" => "POST \"http://127.0.0.1:9/items\", { a: 1 }\n",
        "PUT" => "x = PUT \"http://127.0.0.1:9/items/1\", { a: 1 }\n",
        "PATCH" => "PATCH \"http://127.0.0.1:9/items/1\", { a: 1 }\n",
        "DELETE HTTP" => "DELETE HTTP \"http://127.0.0.1:9/items/1\"\n",
        "SET HEADER" => "SET HEADER \"X-Trace\", \"1\"\nSET_HEADER(\"A\", 2)\n",
        "CLEAR HEADERS" => "SET HEADER \"X-Trace\", \"1\"\nCLEAR HEADERS\nCLEAR_HEADERS\n",
        "NEW ARRAY" => "a = NEW ARRAY\na.push(1)\nTALK LEN(a)\n",
        // The data keywords need the server (its tables); `botserver run` says so.
        "TABLE" => "TABLE t\n  id INTEGER KEY\nEND TABLE\nTALK \"x\"\n",
        "FIND" => "rows = FIND \"orders\", \"status=open\"\n",
        "SAVE" => "total = 2\nSAVE \"orders\", 1, total\n",
        "INSERT" => "INSERT INTO \"orders\" WITH id = 1, total = 2\n",
        "UPDATE" => "n = UPDATE \"orders\", \"id=1\", { total: 3 }\n",
        "DELETE" => "n = DELETE \"orders\", \"id=1\"\n",
        // Mail needs a mail server; without one the run says so.
        "SEND MAIL" => "SEND MAIL \"a@b.c\", \"Hi\", \"Body\"\n",
        "SEND EMAIL" => "status = SEND_EMAIL(\"a@b.c\", \"Hi\", \"Body\")\n",
        "MERGE" => "r = MERGE \"orders\", [{ id: 1 }], \"id\"\n",
        // A declaration: running it does nothing, the package load schedules the script.
        "SET SCHEDULE" => "SET SCHEDULE \"0 9 * * *\"\nSET_SCHEDULE \"every day at 9am\"\nTALK \"x\"\n",
        other => panic!("no program for the provided keyword {other}: add one to this test"),
    };
    (p.to_string(), "")
}

/// The error a run may stop with for a provided keyword that needs the server.
fn names_keyword_or_server(message: &str, k: &Keyword) -> bool {
    let first = k.words.split(' ').next().unwrap_or("");
    message.contains(k.words) || message.contains(first) || message.contains("needs the server")
}

/// The spellings of a keyword: as documented, and with underscores.
fn spellings(k: &Keyword) -> Vec<String> {
    let mut s = vec![k.words.to_string()];
    if k.words.contains(' ') {
        s.push(k.words.replace(' ', "_"));
    }
    s
}

/// The programs that use a keyword this server does not provide.
fn unprovided_programs(k: &Keyword) -> Vec<String> {
    if k.words == "BEGIN MAIL" {
        return vec!["BEGIN MAIL \"a@b.c\"\n  Subject: Hi\n  Body\nEND MAIL\n".into()];
    }
    let mut out = Vec::new();
    // Arguments as a call's (`SEND_MAIL(a, b, c)`) when they are a plain list.
    let plain = !k.example.contains(';')
        && ![
            " AS ",
            " TO ",
            " WITH ",
            " BY ",
            " ON ",
            " OF ",
            " FROM ",
            " EXPIRES ",
            "OF ",
            "FROM ",
        ]
        .iter()
        .any(|g| k.example.contains(g));
    for sp in spellings(k) {
        if k.form != Form::Value {
            out.push(format!("{sp} {}\nTALK \"after\"\n", k.example));
        }
        if k.form != Form::Statement {
            // `x = SESSION_ID` or `x = PRODUCTS` with nothing after it reads a variable
            // (as in General Bots); only a phrase of words or a call is the keyword.
            if !k.example.is_empty() || sp.contains(' ') {
                out.push(format!("x = {sp} {}\nTALK x\n", k.example));
            }
            if plain && !k.example.starts_with('(') {
                out.push(format!(
                    "x = {}({})\nTALK x\n",
                    sp.replace(' ', "_"),
                    k.example
                ));
            }
        }
    }
    out
}

/// The property for a keyword this server does not provide: `check` warns naming it and
/// the run fails naming it. With `or_compile_error`, a compile error that names the
/// keyword also passes (`PUBLISH "x"` reads as a PUBLISH EVENT missing its EVENT).
fn assert_unavailable(k: &Keyword, source: &str, seen: &Seen, or_compile_error: bool) {
    let errors: Vec<&String> = seen
        .diags
        .iter()
        .filter(|d| d.contains(": error: "))
        .collect();
    let name = k.words;
    let first = name.split(' ').next().unwrap_or(name);
    if or_compile_error
        && errors.len() == 1
        && !errors[0].contains("not available")
        && errors[0].to_uppercase().contains(first)
    {
        return;
    }
    assert!(
        seen.diags
            .iter()
            .any(|d| d.contains(&format!("warning: {name} is not available on this server"))),
        "check gave no warning naming {name} for:\n{source}\n{:?}",
        seen.diags
    );
    assert_eq!(seen.exit_code, 1, "{source}\n{:?}", seen.diags);
    assert_eq!(errors.len(), 1, "{source}\n{:?}", seen.diags);
    assert!(
        errors[0].ends_with(&format!("error: {name} is not available on this server")),
        "the run of:\n{source}\nfailed with {:?}, not naming {name}",
        errors[0]
    );
    assert!(!seen.stdout.contains("after"), "{source}: ran past {name}");
}

#[test]
fn every_provided_keyword_checks_clean_and_runs() {
    for k in KEYWORDS.iter().filter(|k| k.provided) {
        let (source, input) = provided_program(k);
        let seen = try_program(&source, input);
        let errors: Vec<&String> = seen
            .diags
            .iter()
            .filter(|d| d.contains(": error: "))
            .collect();
        assert!(
            !seen.diags.iter().any(|d| d.contains("not available")),
            "{}: {source}\n{:?}",
            k.words,
            seen.diags
        );
        match seen.exit_code {
            0 => assert!(errors.is_empty(), "{:?}", seen.diags),
            _ => {
                assert_eq!(errors.len(), 1, "{}: {source}\n{:?}", k.words, seen.diags);
                assert!(
                    names_keyword_or_server(errors[0], k),
                    "{}: the run of\n{source}\nfailed with {:?}",
                    k.words,
                    errors[0]
                );
            }
        }
    }
}

#[test]
fn every_unprovided_keyword_warns_and_fails_naming_itself() {
    let mut n = 0;
    for k in KEYWORDS.iter().filter(|k| !k.provided) {
        for source in unprovided_programs(k) {
            let seen = try_program(&source, "");
            assert_unavailable(k, &source, &seen, false);
            n += 1;
        }
    }
    assert!(n > KEYWORDS.len(), "only {n} programs");
}

/// A spelling in mixed letter case: `send_mail`, `Send Mail`, `SEND MAIL`.
fn recase(s: &str, how: u8) -> String {
    match how % 3 {
        0 => s.to_lowercase(),
        1 => s
            .split(['_', ' '])
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| {
                        f.to_uppercase().collect::<String>() + c.as_str().to_lowercase().as_str()
                    })
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(if s.contains('_') { "_" } else { " " }),
        _ => s.to_string(),
    }
}

fn argument() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,12}".prop_map(|s| format!("\"{s}\"")),
        (0i64..1000).prop_map(|n| n.to_string()),
        Just("v".to_string()),
        Just("v + 1".to_string()),
        Just("[1, 2]".to_string()),
        Just("{ a: 1 }".to_string()),
    ]
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=N for more.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn random_uses_of_unprovided_keywords_are_never_mis_run(
        row in 0..KEYWORDS.len(),
        underscore in any::<bool>(),
        case in 0u8..3,
        value_form in any::<bool>(),
        first in argument().prop_filter("a first argument starts a value", |a| !a.starts_with(['[', '{'])),
        rest in proptest::collection::vec(argument(), 0..3),
        before in proptest::collection::vec(prop_oneof![Just("v = 1"), Just("TALK \"x\""), Just("' a comment")], 0..3),
    ) {
        let k = &KEYWORDS[row];
        prop_assume!(!k.provided && k.words != "BEGIN MAIL");
        // `CALL name` is the base dialect's procedure call; the catalog's CALL takes a
        // script or route (`CALL "/api/orders", o`).
        prop_assume!(k.words != "CALL" || first.starts_with('"'));
        // `SET "key", value` is the provided session form; the catalog's SET is the
        // three-argument table update.
        prop_assume!(k.words != "SET" || rest.len() >= 2 || !first.starts_with('"'));
        // `APPEND list, x` appends to a list variable; the catalog's APPEND is the file's.
        prop_assume!(k.words != "APPEND" || first.starts_with('"'));
        let sp = if underscore { k.words.replace(' ', "_") } else { k.words.to_string() };
        let sp = recase(&sp, case);
        let mut args = vec![first];
        args.extend(rest);
        let args = args.join(", ");
        let use_value = match k.form {
            Form::Value => true,
            Form::Statement => false,
            Form::Both => value_form,
        };
        // A keyword that takes no arguments is written without them (`BOT ID 5` is a
        // delegation to the bot named by `id`); as a value, called (`x = PRODUCTS()`).
        let line = match (k.example.is_empty(), use_value) {
            (true, true) => format!("x = {sp}()"),
            (true, false) => sp.clone(),
            (false, true) => format!("x = {sp} {args}"),
            (false, false) => format!("{sp} {args}"),
        };
        let mut source = String::from("v = 1\n");
        for b in &before {
            source.push_str(b);
            source.push('\n');
        }
        source.push_str(&line);
        source.push_str("\nTALK \"after\"\n");
        let seen = try_program(&source, "");
        assert_unavailable(k, &source, &seen, true);
    }
}

/// docs/language.md lists every keyword of the catalog, marked as the catalog marks it.
#[test]
fn the_language_doc_lists_every_catalog_keyword() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md")).unwrap();
    for k in KEYWORDS {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", k.words)))
            .unwrap_or_else(|| panic!("docs/language.md has no row for {}", k.words));
        let provided = row.contains("| **yes** |");
        assert_eq!(
            provided, k.provided,
            "docs/language.md marks {} wrongly: {row}",
            k.words
        );
    }
}
