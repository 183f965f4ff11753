//! The language corpus runner: every `tests/corpus/<feature>/NAME.bas` goes through the
//! entry points users hit — `botserver::cli::check::check_paths`, then (when `check`
//! found no error) `botserver::cli::run::run_file` with `NAME.in` as its input — and
//! what the user would see is compared exactly with the files beside the program:
//!
//! - `NAME.out`: the expected stdout of `run` (absent: stdout must be empty);
//! - `NAME.err`: the expected diagnostics, one `line:col: error|warning: message` per
//!   line (the file path is left out so the files are stable): first those of `check`,
//!   then the runtime error of `run`, if any (absent: there must be none).
//!
//! The exit code must be 1 exactly when an error is expected, 0 otherwise. An expected
//! line may start with `*:` instead of `line:col:` where the position depends on timing
//! (the computing-time limit stops a script wherever it happens to be).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use botserver::cli::{check, run};

/// A program that does not finish within this time fails its case: a hang guard, not a
/// speed assertion (the sandbox limits stop every script long before it).
const HANG_GUARD: Duration = Duration::from_secs(60);

/// The folder holding the corpus.
pub fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("corpus")
}

/// One corpus program and what is expected of it.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub path: PathBuf,
    pub source: String,
    pub input: String,
    pub expected_out: String,
    pub expected_diags: Vec<String>,
}

/// What a user saw when checking and running a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub stdout: String,
    pub diags: Vec<String>,
    pub exit_code: i32,
}

fn read_opt(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Every case of one feature folder, sorted by name. Panics when the folder is empty or
/// a program has neither a `.out` nor a `.err` file beside it.
pub fn cases(feature: &str) -> Vec<Case> {
    let dir = corpus_root().join(feature);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read corpus folder {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("bas"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no .bas programs in {}", dir.display());
    paths
        .into_iter()
        .map(|path| {
            let out = read_opt(&path.with_extension("out"));
            let err = read_opt(&path.with_extension("err"));
            assert!(
                out.is_some() || err.is_some(),
                "{} has neither a .out nor a .err file beside it",
                path.display()
            );
            Case {
                name: format!(
                    "{feature}/{}",
                    path.file_stem().and_then(|s| s.to_str()).unwrap_or("?")
                ),
                source: std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())),
                input: read_opt(&path.with_extension("in")).unwrap_or_default(),
                expected_out: out.unwrap_or_default(),
                expected_diags: err
                    .unwrap_or_default()
                    .lines()
                    .map(str::trim_end)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect(),
                path,
            }
        })
        .collect()
}

/// Every `.bas` program of the whole corpus, with its text.
pub fn all_sources() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![corpus_root()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("the corpus folder") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().and_then(|e| e.to_str()) == Some("bas") {
                let text = std::fs::read_to_string(&path).expect("a corpus program");
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

/// The diagnostic header lines of a rendered output, without the `path:` prefix. Lines
/// of context (the source line, the caret) are checked, not returned.
fn diagnostic_lines(rendered: &str, path: &Path, source: &str) -> Result<Vec<String>, String> {
    let prefix = format!("{}:", path.display());
    let lines: Vec<&str> = rendered.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.strip_prefix(&prefix) else {
            continue;
        };
        out.push(rest.to_string());
        // The rendering shows the source line and a caret under the column.
        let mut pos = rest.splitn(3, ':');
        let (Some(l), Some(c)) = (pos.next(), pos.next()) else {
            continue;
        };
        let (Ok(l), Ok(c)) = (l.parse::<usize>(), c.parse::<usize>()) else {
            continue;
        };
        let Some(text) = source.lines().nth(l.wrapping_sub(1)) else {
            continue;
        };
        let text = text.trim_end_matches('\r');
        let shown = lines.get(i + 1).copied().unwrap_or("");
        let caret = lines.get(i + 2).copied().unwrap_or("");
        let want_pad = text.chars().count().min(c.saturating_sub(1));
        if shown != format!("  {text}") || !caret.ends_with('^') {
            return Err(format!(
                "diagnostic `{rest}` is not followed by its source line and a caret:\n{rendered}"
            ));
        }
        let pad = caret.chars().count().saturating_sub(3);
        if pad != want_pad {
            return Err(format!(
                "the caret of `{rest}` is under column {}, not {c}:\n{rendered}",
                pad + 1
            ));
        }
    }
    Ok(out)
}

/// Checks and (if `check` found no error) runs one program, as `botserver check` and
/// `botserver run` would.
pub fn check_and_run(path: &Path, source: &str, input: &str) -> Result<Seen, String> {
    let mut checked = Vec::new();
    let summary = check::check_paths(&[path.to_path_buf()], &mut checked)
        .map_err(|e| format!("check_paths failed: {e}"))?;
    let checked = String::from_utf8(checked).map_err(|e| format!("check output: {e}"))?;
    let mut diags = diagnostic_lines(&checked, path, source)?;
    if diags.len() != summary.errors + summary.warnings {
        return Err(format!(
            "check counted {} errors and {} warnings but printed:\n{checked}",
            summary.errors, summary.warnings
        ));
    }
    if summary.errors > 0 {
        return Ok(Seen {
            stdout: String::new(),
            diags,
            exit_code: 1,
        });
    }
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let exit_code = run::run_file(path, input.as_bytes(), &mut stdout, &mut stderr)
        .map_err(|e| format!("run_file failed: {e}"))?;
    let stderr = String::from_utf8(stderr).map_err(|e| format!("run stderr: {e}"))?;
    diags.extend(diagnostic_lines(&stderr, path, source)?);
    Ok(Seen {
        stdout: String::from_utf8(stdout).map_err(|e| format!("run stdout: {e}"))?,
        diags,
        exit_code,
    })
}

/// `check_and_run` on its own thread, failing when it does not finish in time.
pub fn check_and_run_guarded(path: &Path, source: &str, input: &str) -> Result<Seen, String> {
    let (tx, rx) = mpsc::channel();
    let (p, s, i) = (path.to_path_buf(), source.to_string(), input.to_string());
    std::thread::spawn(move || {
        let _ = tx.send(check_and_run(&p, &s, &i));
    });
    match rx.recv_timeout(HANG_GUARD) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "still running after {} s (a hang)",
            HANG_GUARD.as_secs()
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err("the check/run thread panicked (see its message above)".to_string())
        }
    }
}

/// A diagnostic without its `line:col:` (or the space left where there is none).
fn without_position(d: &str) -> &str {
    let mut parts = d.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(l), Some(c), Some(rest))
            if l.chars().all(|ch| ch.is_ascii_digit())
                && c.chars().all(|ch| ch.is_ascii_digit()) =>
        {
            rest.trim_start()
        }
        _ => d.trim_start(),
    }
}

/// Expected and actual diagnostics are equal, an expected `*:` matching any position.
fn diags_match(expected: &[String], actual: &[String]) -> bool {
    expected.len() == actual.len()
        && expected
            .iter()
            .zip(actual)
            .all(|(e, a)| match e.strip_prefix("*:") {
                Some(rest) => rest.trim_start() == without_position(a),
                None => e == a,
            })
}

fn indent(text: &str) -> String {
    if text.is_empty() {
        return "    (nothing)\n".to_string();
    }
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// Runs one case; `Err` describes the difference with the program, its input, and the
/// expected and actual output.
pub fn run_case(case: &Case) -> Result<(), String> {
    let seen = check_and_run_guarded(&case.path, &case.source, &case.input)
        .map_err(|e| format!("{}: {e}\n  program:\n{}", case.name, indent(&case.source)))?;
    let want_code = if case.expected_diags.iter().any(|d| d.contains(": error: ")) {
        1
    } else {
        0
    };
    if seen.stdout == case.expected_out
        && diags_match(&case.expected_diags, &seen.diags)
        && seen.exit_code == want_code
    {
        return Ok(());
    }
    let mut msg = format!("{} ({})\n", case.name, case.path.display());
    msg.push_str(&format!("  program:\n{}", indent(&case.source)));
    if !case.input.is_empty() {
        msg.push_str(&format!("  input:\n{}", indent(&case.input)));
    }
    if seen.stdout != case.expected_out {
        msg.push_str(&format!(
            "  expected stdout:\n{}  actual stdout:\n{}",
            indent(&case.expected_out),
            indent(&seen.stdout)
        ));
    }
    if !diags_match(&case.expected_diags, &seen.diags) {
        msg.push_str(&format!(
            "  expected diagnostics:\n{}  actual diagnostics:\n{}",
            indent(&case.expected_diags.join("\n")),
            indent(&seen.diags.join("\n"))
        ));
    }
    if seen.exit_code != want_code {
        msg.push_str(&format!(
            "  expected exit code {want_code}, got {}\n",
            seen.exit_code
        ));
    }
    Err(msg)
}

/// Runs every case of a feature folder and fails with all the differences at once.
pub fn run_feature(feature: &str) {
    let cases = cases(feature);
    let failures: Vec<String> = cases.iter().filter_map(|c| run_case(c).err()).collect();
    if !failures.is_empty() {
        let mut report = String::new();
        let _ = writeln!(
            report,
            "{} of {} corpus programs in '{feature}' failed:\n",
            failures.len(),
            cases.len()
        );
        for f in failures {
            let _ = writeln!(report, "{f}");
        }
        panic!("{report}");
    }
}
