//! Runaways and lost updates in the runtime (hostile input and faults), each bounded or
//! prevented: TALK output per execution, delegation depth, concurrent read-modify-write
//! of bot memory, and a parent whose child an operator cancels.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{eventually, BotDir, Options, Server};
use serde_json::json;

fn env(pairs: &[(&str, &str)]) -> Options {
    Options {
        env: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Options::default()
    }
}

fn error_of(s: &Server, id: &str) -> String {
    let (_, d) = s.get(&format!("/api/workflows/{id}"));
    d["error"].as_str().unwrap_or_default().to_string()
}

/// A script that TALKs a 512 KiB text a thousand times, or a short one ten thousand
/// times, stops at the execution's output limits with an error naming them.
#[test]
fn talk_output_per_execution_is_bounded() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "noisy",
        "big",
        "s = \"x\"\nFOR i = 1 TO 19\n  s = s & s\nNEXT\nFOR i = 1 TO 1000\n  TALK s\nNEXT\n",
    )
    .script("noisy", "many", "FOR i = 1 TO 10000\n  TALK i\nNEXT\n");
    let s = Server::start_with(
        &db.url,
        &bots.path,
        env(&[
            ("BOTSERVER_MAX_OUTPUT_BYTES", "2000000"),
            ("BOTSERVER_MAX_TALKS", "50"),
        ]),
    );
    let big = s.start_workflow("noisy", "big", json!({}));
    let r = s.workflow_result(&big);
    assert_eq!(r["status"], "failed", "{r}");
    let e = error_of(&s, &big);
    assert!(
        e.contains("output limit of 2000000 bytes (BOTSERVER_MAX_OUTPUT_BYTES)"),
        "{e}"
    );
    let (_, d) = s.get(&format!("/api/workflows/{big}"));
    assert!(
        d.to_string().len() < 4_000_000,
        "the detail holds the bounded output only"
    );

    let many = s.start_workflow("noisy", "many", json!({}));
    let r = s.workflow_result(&many);
    assert_eq!(r["status"], "failed", "{r}");
    let e = error_of(&s, &many);
    assert!(e.contains("already said 50 messages"), "{e}");
}

/// A bot whose task delegates to itself stops at the delegation depth limit: the chain
/// fails from its deepest child up to the root, which answers.
#[test]
fn delegation_depth_is_bounded() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("loop", "again", "x = BOT \"loop\" \"again\"\nRETURN x\n");
    let s = Server::start_with(&db.url, &bots.path, env(&[("BOTSERVER_MAX_DEPTH", "8")]));
    let id = s.start_workflow("loop", "again", json!({}));
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "failed", "{r}");
    let e = error_of(&s, &id);
    assert!(e.contains("delegation depth limit of 8"), "{e}");
    // The root and eight levels of children, no more.
    assert_eq!(db.count("SELECT count(*) AS n FROM workflow_executions"), 9);
}

/// Fifty concurrent workflows each read a counter in bot memory and write it back plus
/// one, in one run: every update counts.
#[test]
fn concurrent_read_modify_write_of_bot_memory_loses_no_update() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "count",
        "inc",
        "g = GET BOT MEMORY(\"g\") ?? 0\nFOR i = 1 TO 3000\nNEXT\nSET BOT MEMORY \"g\", g + 1\nRETURN g + 1\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let n = 50;
    let ids: Vec<String> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..n)
            .map(|_| sc.spawn(|| s.start_workflow("count", "inc", json!({}))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut seen: Vec<i64> = ids
        .iter()
        .map(|id| {
            let r = s.workflow_result(id);
            assert_eq!(r["status"], "completed", "{r}");
            r["result"].as_i64().unwrap()
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        (1..=n as i64).collect::<Vec<_>>(),
        "each run saw the one before"
    );
    let (_, m) = s.get("/api/bots/count/memory/g");
    assert_eq!(m["value"], n);
}

/// An operator cancels the child a parent's BOT step waits for: the parent's step fails
/// with a clear error (and the parent with it), instead of waiting forever.
#[test]
fn cancelling_a_child_fails_its_parents_step() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "boss",
        "start",
        "ORCHESTRATE WORKFLOW \"w\"\n  STEP 1: x = BOT \"helper\" \"slow\"\n  RETURN x\nEND WORKFLOW\n",
    )
    .script("helper", "slow", "WAIT 600\nRETURN 1\n");
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("boss", "start", json!({}));
    let child = eventually(20.0, "the child", || {
        let (_, d) = s.get(&format!("/api/workflows/{id}"));
        let c = d["children"][0]["id"].as_str().map(str::to_string);
        c.ok_or_else(|| d.to_string())
    });
    let (st, v) = s.post(&format!("/api/workflows/{child}/cancel"), json!({}));
    assert!(st == 200 || st == 202, "{st} {v}");
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "failed", "{r}");
    let e = error_of(&s, &id);
    assert!(
        e.contains("bot 'helper' was cancelled by an operator"),
        "{e}"
    );
}

/// Every connection of the server to its database is cut (as a PostgreSQL restart does):
/// the pool drops the dead ones once the first is found, and runs retry on a fresh one,
/// so a burst of requests right after gets at most one 503, and every workflow started
/// completes.
#[test]
fn dead_pooled_connections_are_dropped_after_the_first_is_found() {
    use diesel::RunQueryDsl;
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "w",
        "steps",
        "STEP 1: x = 1\nSET BOT MEMORY \"k\", x\nRETURN x\n",
    );
    let s = Server::start(&db.url, &bots.path);
    // Fill the pool with used connections.
    std::thread::scope(|sc| {
        for _ in 0..8 {
            sc.spawn(|| {
                let id = s.start_workflow("w", "steps", json!({}));
                assert_eq!(s.workflow_result(&id)["status"], "completed");
            });
        }
    });
    let mut conn = db.conn();
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{}' AND pid <> pg_backend_pid()",
        db.name
    ))
    .execute(&mut conn)
    .unwrap();
    let mut failed = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..30 {
        let (st, v) = s.post(
            "/api/workflows",
            json!({ "bot": "w", "script": "steps", "input": {} }),
        );
        if st == 201 {
            ids.push(v["id"].as_str().unwrap().to_string());
        } else {
            failed.push(format!("{st} {v}"));
        }
    }
    assert!(
        failed.len() <= 1,
        "{} of 30 failed: {failed:?}",
        failed.len()
    );
    for id in ids {
        let r = s.workflow_result(&id);
        assert_eq!(r["status"], "completed", "{r}");
    }
}
