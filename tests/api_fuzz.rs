//! The API fuzzed from its own OpenAPI description (`/api/openapi.json`), with
//! schemathesis (from PyPI; installed by this test into a virtualenv under the target
//! directory the first time, then reused): requests generated from every operation's
//! parameters and bodies, valid and invalid, against a real server with the template
//! bots. Every answer must be no 5xx, and of the content type the description declares
//! for its status (JSON for every error). `FUZZ_EXAMPLES` sets the examples per operation
//! (default 25), `FUZZ_SEED` the seed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::db::TestDb;
use common::server::{BotDir, Server};

const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// The `schemathesis` command of a virtualenv under the target directory, made (and the
/// pinned version installed) when missing.
fn schemathesis() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-venv");
    let bin = venv.join("bin").join("schemathesis");
    let marker = venv.join(SCHEMATHESIS);
    if bin.exists() && marker.exists() {
        return bin;
    }
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok())
        .expect("the API fuzz test needs python3 (apt install python3 python3-venv)");
    let made = Command::new(python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(made.success(), "python3 -m venv {} failed", venv.display());
    let pip = Command::new(venv.join("bin").join("pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            SCHEMATHESIS,
        ])
        .status()
        .unwrap();
    assert!(pip.success(), "pip install {SCHEMATHESIS} failed");
    std::fs::write(&marker, "").unwrap();
    bin
}

#[test]
fn the_api_answers_fuzzed_requests_without_5xx_and_in_json() {
    let st = schemathesis();
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = Server::start(&db.url, &bots.path);
    let (status, spec) = s.get("/api/openapi.json");
    assert_eq!(status, 200, "{spec}");
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "{} paths", paths.len());
    let examples = std::env::var("FUZZ_EXAMPLES").unwrap_or_else(|_| "25".to_string());
    let seed = std::env::var("FUZZ_SEED").unwrap_or_else(|_| "7231".to_string());
    let out = Command::new(st)
        .arg("run")
        .arg(format!("{}/api/openapi.json", s.base))
        .args(["--url", &s.base])
        .args(["--checks", "not_a_server_error,content_type_conformance"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", &examples])
        .args(["--seed", &seed])
        .args(["--workers", "2"])
        .args(["--suppress-health-check", "all"])
        // A long poll waits up to its timeout: a fuzzed one must not hold the run.
        .args(["--request-timeout", "35"])
        .env("NO_COLOR", "1")
        // Its cache of found crashes goes under the target directory, not the checkout.
        .current_dir(env!("CARGO_TARGET_TMPDIR"))
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The summary, for the record (requests sent, operations, failures).
    let summary: Vec<&str> = text
        .lines()
        .filter(|l| {
            let l = l.to_lowercase();
            l.contains("passed")
                || l.contains("failed")
                || l.contains("test cases")
                || l.contains("operations")
        })
        .collect();
    println!(
        "schemathesis (seed {seed}, {examples} examples):\n{}",
        summary.join("\n")
    );
    assert!(out.status.success(), "schemathesis found problems:\n{text}");
    let log = s.log_text();
    assert!(!log.contains(" ERROR "), "the server logged errors:\n{log}");
}
