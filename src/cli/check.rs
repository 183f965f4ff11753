//! `botserver check PATH…`: compiles `.bas` files or packages and prints diagnostics
//! like a compiler (`file:line:col: error|warning: message`, the line, a caret).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::basic::diagnostics::Diagnostic;
use crate::basic::{check_source, engine};
use crate::bots;

/// Totals of a check run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Files checked.
    pub files: usize,
    /// Errors found.
    pub errors: usize,
    /// Warnings found.
    pub warnings: usize,
}

/// The folder of packages a path given to `check` stands for: the folder holding it when
/// it is a package (`.` for a package named relative to here, like `check x.gbai`).
fn root_of(path: &std::path::Path) -> PathBuf {
    if !bots::is_package(path) {
        return path.to_path_buf();
    }
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Checks every path and writes diagnostics to `out`.
pub fn check_paths(paths: &[PathBuf], out: &mut dyn Write) -> std::io::Result<Summary> {
    let limits = engine::Limits::default();
    let engine = engine::new_engine(&limits);
    let mut summary = Summary::default();
    // Bots known to delegation targets: the packages of every folder given, and those
    // beside a package given.
    let mut every_bot: Option<BTreeSet<String>> = None;
    for path in paths.iter().filter(|p| p.is_dir()) {
        let root = root_of(path);
        if let Ok(pkgs) = bots::load_packages(&root) {
            if !pkgs.is_empty() {
                every_bot
                    .get_or_insert_with(BTreeSet::new)
                    .extend(pkgs.into_iter().map(|p| p.name));
            }
        }
    }
    for path in paths {
        let mut files: Vec<PathBuf> = Vec::new();
        let mut known_bots: Option<BTreeSet<String>> = None;
        if path.is_dir() {
            let root = root_of(path);
            match bots::load_packages(&root) {
                Ok(pkgs) if !pkgs.is_empty() => {
                    known_bots = every_bot.clone();
                }
                Ok(_) => {}
                Err(e) => {
                    writeln!(out, "{}: error: {e}", path.display())?;
                    summary.errors += 1;
                    continue;
                }
            }
            collect_bas(path, &mut files)?;
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            writeln!(out, "{}: error: no such file or directory", path.display())?;
            summary.errors += 1;
            continue;
        }
        files.sort();
        for file in files {
            summary.files += 1;
            let shown = file.display().to_string();
            let source = match std::fs::read_to_string(&file) {
                Ok(s) => s,
                Err(e) => {
                    writeln!(out, "{shown}: error: cannot read: {e}")?;
                    summary.errors += 1;
                    continue;
                }
            };
            let diags: Vec<Diagnostic> = check_source(&engine, &source, &limits, |bot| {
                known_bots.as_ref().filter(|k| !k.contains(bot)).map(|_| {
                    format!("unknown bot '{bot}': no {bot}.gbai package is loaded beside this one")
                })
            });
            for d in &diags {
                if d.is_error() {
                    summary.errors += 1;
                } else {
                    summary.warnings += 1;
                }
                write!(out, "{}", d.render(&shown, &source))?;
            }
        }
    }
    Ok(summary)
}

fn collect_bas(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_bas(&path, out)?;
        } else if path.extension().and_then(|e| e.to_str()) == Some("bas") {
            out.push(path);
        }
    }
    Ok(())
}
