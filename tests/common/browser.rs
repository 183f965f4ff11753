//! The browser tests' driver: Debian's chromium with playwright-core, set up by
//! `scripts/browser-setup.sh`, running a script of `tests/browser/`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Installs chromium and playwright-core when they are missing (or fails the test
/// saying so).
pub fn setup() {
    let status = Command::new("bash")
        .arg(root().join("scripts/browser-setup.sh"))
        .status()
        .expect("cannot run scripts/browser-setup.sh");
    assert!(
        status.success(),
        "scripts/browser-setup.sh failed: the browser test needs Debian's chromium and npm"
    );
}

/// Where the browser tests' screenshots go (the test run's output folder).
pub fn shots() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots")
}

/// Runs `tests/browser/{script}` with `env` (and `SHOTS`); its output, after checking it
/// ended well (`browser: ok`), or a failure with its output and `log`.
pub fn run(script: &str, env: &[(&str, &str)], log: impl Fn() -> String) -> String {
    let mut cmd = Command::new("node");
    cmd.arg(root().join("tests/browser").join(script))
        .current_dir(root().join("tests/browser"))
        .env("SHOTS", shots());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("cannot run node");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("browser: ok"),
        "the browser script failed:\n{stdout}\n{stderr}\nserver log:\n{}",
        log()
    );
    stdout
}

/// Fails unless each named screenshot was taken.
pub fn assert_shots(names: &[&str]) {
    for name in names {
        let f = shots().join(format!("{name}.png"));
        let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1000, "screenshot {} missing or empty", f.display());
    }
}
