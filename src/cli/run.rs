//! `botserver run FILE.bas`: a dialog in the terminal. TALK prints a line, HEAR reads
//! one, bot memory lives in memory, RETURN prints the result. Keywords that need the
//! server (workflows, events, shared memory) fail with their position.

use std::io::{BufRead, Write};
use std::path::Path;

use serde_json::Value as Json;

use crate::basic::context::TerminalHost;
use crate::basic::{compile, engine, run_entry, value, RunOutcome};

/// Runs a script file; returns the process exit code. Diagnostics go to `err`.
pub fn run_file(
    path: &Path,
    input: impl BufRead,
    output: impl Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    // A package runs its entry dialog, `NAME.gbdialog/start.bas`.
    let entry;
    let path = if path.is_dir() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".gbai"));
        match name {
            Some(name) if crate::bots::is_package(path) => {
                entry = path.join(format!("{name}.gbdialog")).join("start.bas");
                entry.as_path()
            }
            _ => {
                writeln!(
                    err,
                    "{}: error: a folder; give a .bas file or a NAME.gbai package (which runs its start.bas)",
                    path.display()
                )?;
                return Ok(2);
            }
        }
    } else {
        path
    };
    let shown = path.display().to_string();
    let source = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            writeln!(err, "{shown}: error: cannot read: {e}")?;
            return Ok(2);
        }
    };
    let limits = engine::Limits::default();
    let engine = engine::new_engine(&limits);
    let script = match compile(&engine, &source, &limits) {
        Ok(s) => s,
        Err(d) => {
            write!(err, "{}", d.render(&shown, &source))?;
            return Ok(1);
        }
    };
    let mut host = TerminalHost::new(input, output);
    let (outcome, _) = run_entry(
        &engine,
        &script,
        0,
        &Json::Object(Default::default()),
        &mut host,
    );
    match outcome {
        RunOutcome::Completed => {
            if let Some(result) = host.result.take() {
                if !result.is_null() {
                    let shown = value::display(&value::from_json(&result));
                    writeln!(host.output, "{shown}")?;
                }
            }
            Ok(0)
        }
        RunOutcome::Suspended => {
            writeln!(
                err,
                "{shown}: error: the script waited for something only the server provides"
            )?;
            Ok(1)
        }
        RunOutcome::Failed(e) => {
            write!(err, "{}", e.render(&shown, &source))?;
            Ok(1)
        }
    }
}
