//! Graceful shutdown and start-up rules: SIGTERM lets the server finish and release its
//! leases (another start picks the work up at once, no lease to wait out), and without
//! an admin token the server refuses to bind a non-loopback address.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::db::TestDb;
use common::server::{BotDir, Options, Server};
use serde_json::json;

#[test]
fn sigterm_finishes_and_releases_leases() {
    let db = TestDb::new();
    let bots = BotDir::new();
    // Parks on a timer, then computes for a while (the SIGTERM lands here), then parks.
    bots.script(
        "slow",
        "start",
        "WAIT 0.2\nt = 0\nFOR i = 1 TO 60000\n  t = t + 1\nNEXT\nWAIT 1\nRETURN t\n",
    );
    let opts = Options {
        instance: Some("graceful".into()),
        ..Options::default()
    };
    let s = Server::start_with(&db.url, &bots.path, opts.clone());
    let (st, v) = s.post(
        "/api/workflows",
        json!({ "bot": "slow", "script": "start", "input": {} }),
    );
    assert_eq!(st, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    common::server::eventually(20.0, "the workflow running on this instance", || {
        let n = db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE owner = 'graceful' AND status = 'running'",
        );
        if n == 1 {
            Ok(())
        } else {
            Err("not running yet".into())
        }
    });
    assert!(
        s.terminate(Duration::from_secs(15)),
        "the server did not exit after SIGTERM"
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE owner IS NOT NULL"),
        0,
        "leases were not released"
    );
    // The run in progress at SIGTERM was finished (it reached the second WAIT), not dropped.
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM workflow_executions WHERE id = '{id}' AND status = 'waiting'"
        )),
        1
    );
    let s = Server::start_with(&db.url, &bots.path, opts);
    let (_, r) = s.get(&format!("/api/workflows/{id}/result?timeout=20"));
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], 60000);
}

#[test]
fn development_mode_binds_loopback_only() {
    let db = TestDb::new();
    let bots = BotDir::new();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_botserver"))
        .args(["serve", "--bind", "0.0.0.0:0", "--bots"])
        .arg(&bots.path)
        .env("DATABASE_URL", &db.url)
        .env_remove("BOTSERVER_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to bind 0.0.0.0:0 without BOTSERVER_ADMIN_TOKEN"),
        "{err}"
    );
}

/// At the default level the server says where its database is (without a password), which
/// bots it serves and whether Redis is on, and writes no colour codes to a file.
#[test]
fn start_up_says_where_the_database_is_and_what_it_serves() {
    let db = common::db::TestDb::new();
    let bots = common::server::BotDir::new();
    bots.script("hello", "start", "TALK \"hi\"\n");
    let mut opts = common::server::Options::default();
    opts.env.push(("RUST_LOG".to_string(), String::new()));
    let s = common::server::Server::start_with(&db.url, &bots.path, opts);
    let log = common::server::eventually(10.0, "the start-up lines", || {
        let log = s.log_text();
        if log.contains("serving 1 bot(s)") {
            Ok(log)
        } else {
            Err(log)
        }
    });
    assert!(log.contains("database"), "{log}");
    assert!(
        log.contains(&db.url.split('@').next_back().unwrap_or("").to_string()),
        "{log}"
    );
    assert!(log.contains("hello"), "{log}");
    assert!(log.contains("redis"), "{log}");
    assert!(!log.contains('\u{1b}'), "colour codes in a log file: {log}");
}
