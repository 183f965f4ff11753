//! Bot packages: `NAME.gbai/` folders holding `NAME.gbdialog/*.bas` and optionally
//! `NAME.gbot/config.csv` (README).

#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why a package could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("cannot read {path}: {source}")]
    /// A file or folder could not be read.
    Io {
        /// What could not be read.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    /// A `config.csv` line is malformed.
    Config {
        /// The file.
        path: PathBuf,
        /// Its line (1-based).
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
    move |source| PackageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One script of a package.
#[derive(Debug, Clone)]
pub struct ScriptFile {
    /// File stem, lower-cased (`start`, `analyze-complaint`).
    pub name: String,
    /// The `.bas` file.
    pub path: PathBuf,
    /// Its text when loaded.
    pub source: String,
}

/// A loaded bot package.
#[derive(Debug, Clone)]
pub struct Package {
    /// The bot's name (the package folder without `.gbai`).
    pub name: String,
    /// The package folder.
    pub dir: PathBuf,
    /// Its scripts by lower-cased name.
    pub scripts: BTreeMap<String, ScriptFile>,
    /// `config.csv` as name/value pairs, in order.
    pub config: Vec<(String, String)>,
}

impl Package {
    /// Reads a `NAME.gbai` folder.
    pub fn load(dir: &Path) -> Result<Package, PackageError> {
        let file_name = dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let name = file_name
            .strip_suffix(".gbai")
            .unwrap_or(&file_name)
            .to_string();
        let mut scripts = BTreeMap::new();
        let dialog = dir.join(format!("{name}.gbdialog"));
        if dialog.is_dir() {
            for entry in std::fs::read_dir(&dialog).map_err(io(&dialog))? {
                let path = entry.map_err(io(&dialog))?.path();
                if path.extension().and_then(|e| e.to_str()) != Some("bas") {
                    continue;
                }
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_lowercase())
                    .unwrap_or_default();
                let source = std::fs::read_to_string(&path).map_err(io(&path))?;
                scripts.insert(
                    stem.clone(),
                    ScriptFile {
                        name: stem,
                        path,
                        source,
                    },
                );
            }
        }
        let config_path = dir.join(format!("{name}.gbot")).join("config.csv");
        let config = if config_path.is_file() {
            parse_config(&config_path)?
        } else {
            Vec::new()
        };
        Ok(Package {
            name,
            dir: dir.to_path_buf(),
            scripts,
            config,
        })
    }

    /// The value of `key` in `config.csv` (names compared case-insensitively).
    pub fn config_value(&self, key: &str) -> Option<&str> {
        self.config
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The script a delegated task runs: `<task as slug>.bas`, else `task.bas`, else
    /// `start.bas` (docs/language.md).
    pub fn task_handler(&self, task: &str) -> Option<&ScriptFile> {
        self.scripts
            .get(&slug(task))
            .or_else(|| self.scripts.get("task"))
            .or_else(|| self.scripts.get("start"))
    }
}

/// `"Analyze Complaint!"` → `analyze-complaint`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// `name,value` rows with a header line first; quoted values may hold commas.
fn parse_config(path: &Path) -> Result<Vec<(String, String)>, PackageError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((k, v)) = line.split_once(',') else {
            return Err(PackageError::Config {
                path: path.to_path_buf(),
                line: i + 1,
                message: "expected 'name,value'".to_string(),
            });
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        rows.push((k.trim().to_string(), v.replace("\"\"", "\"")));
    }
    Ok(rows)
}

/// Every `*.gbai` package directly under `dir` (or `dir` itself when it is one),
/// sorted by name.
pub fn load_packages(dir: &Path) -> Result<Vec<Package>, PackageError> {
    if is_package(dir) {
        return Ok(vec![Package::load(dir)?]);
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if is_package(&path) {
            out.push(Package::load(&path)?);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// True for a `*.gbai` folder.
pub fn is_package(path: &Path) -> bool {
    path.is_dir() && path.extension().and_then(|e| e.to_str()) == Some("gbai")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("analyze complaint"), "analyze-complaint");
        assert_eq!(slug("  Process Refund! "), "process-refund");
    }
}
