//! Failing steps: RETRY re-runs a step with backoff until it succeeds (attempts = 3 after
//! two failures); a step that always fails fails the workflow; after the failing bot's
//! script is fixed, an operator's retry completes the workflow from the failed step.
//! A `BOT` step without `RETRY` (tried once) that failed shows `failed` with its error,
//! and an operator's retry starts a new child for it. Also: cancel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{BotDir, Server};
use serde_json::{json, Value};

fn step(s: &Server, id: &str, key: &str) -> Value {
    let (_, d) = s.get(&format!("/api/workflows/{id}"));
    d["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["key"] == key)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn failing_twice_then_succeeding_takes_three_attempts() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "flaky",
        "task",
        "n = GET BOT MEMORY(\"calls\") + 1\nSET BOT MEMORY \"calls\", n\nIF n < 3 THEN\n  x = 1 / 0\nEND IF\nRETURN { calls: n }\n",
    );
    bots.script(
        "retrier",
        "start",
        "ORCHESTRATE WORKFLOW \"retrying\"\n  STEP 1: BOT \"flaky\" \"work\"\n    RETRY 3 BACKOFF 0.1\n  RETURN step1\nEND WORKFLOW\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("retrier", "start", json!({}));
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], json!({ "calls": 3 }));
    let st = step(&s, &id, "1");
    assert_eq!(st["attempts"], 3, "{st}");
    assert_eq!(st["status"], "completed");
    assert_eq!(db.count("SELECT count(*) AS n FROM workflow_executions WHERE bot = 'flaky' AND status = 'failed'"), 2);
}

#[test]
fn always_failing_step_fails_and_operator_retry_completes_after_fix() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("broken", "task", "TALK \"trying\"\nx = 1 / 0\n");
    bots.script(
        "fixme",
        "start",
        "ORCHESTRATE WORKFLOW \"fixme\"\n  STEP 1: x = 41\n  STEP 2: BOT \"broken\" \"work\"\n    RETRY 2 BACKOFF 0.1\n  RETURN { x: x + 1, two: step2 }\nEND WORKFLOW\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("fixme", "start", json!({}));
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "failed", "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("division by zero"),
        "{r}"
    );
    let st = step(&s, &id, "2");
    assert_eq!(
        (st["status"].as_str(), st["attempts"].as_i64()),
        (Some("failed"), Some(2)),
        "{st}"
    );
    assert_eq!(step(&s, &id, "1")["status"], "completed");

    // Retrying before the fix fails again; after the fix it completes.
    let (code, v) = s.post(&format!("/api/workflows/{id}/retry"), json!({}));
    assert_eq!(code, 200, "{v}");
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "failed", "{r}");
    bots.script("broken", "task", "RETURN \"fixed\"\n");
    let (code, v) = s.post(&format!("/api/workflows/{id}/retry"), json!({}));
    assert_eq!(code, 200, "{v}");
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], json!({ "x": 42, "two": "fixed" }));
    // Step 1 was not run again: its journal entry is the original one.
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM journal WHERE execution_id = '{id}' AND key = '1!end'"
        )),
        1
    );

    let (code, v) = s.post(&format!("/api/workflows/{id}/retry"), json!({}));
    assert_eq!(code, 409, "only failed workflows can be retried: {v}");
}

#[test]
fn bot_step_without_retry_is_failed_and_retry_starts_a_new_child() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("breaks", "task", "TALK \"trying\"\nx = 1 / 0\n");
    bots.script(
        "once",
        "start",
        "ORCHESTRATE WORKFLOW \"once\"\n  STEP 1: x = 41\n  STEP 2: BOT \"breaks\" \"work\"\n  RETURN { x: x + 1, two: step2 }\nEND WORKFLOW\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("once", "start", json!({}));
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "failed", "{r}");

    // The failed step says so, with its error and its end.
    let st = step(&s, &id, "2");
    assert_eq!(st["status"], "failed", "{st}");
    assert!(
        st["error"]
            .as_str()
            .unwrap_or("")
            .contains("division by zero"),
        "{st}"
    );
    assert!(st["finished_at"].is_string(), "{st}");

    bots.script("breaks", "task", "RETURN \"fixed\"\n");
    let (code, v) = s.post(&format!("/api/workflows/{id}/retry"), json!({}));
    assert_eq!(code, 200, "{v}");
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], json!({ "x": 42, "two": "fixed" }));
    assert_eq!(step(&s, &id, "2")["status"], "completed");
    // The old child stays failed; the retry ran a new one.
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE bot = 'breaks' AND status = 'failed'"),
        1
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE bot = 'breaks' AND status = 'completed'"),
        1
    );
}

#[test]
fn failing_step_without_retry_shows_failed() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "plain",
        "start",
        "STEP 1: x = 1\nSTEP 2: y = x / 0\nRETURN y\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("plain", "start", json!({}));
    assert_eq!(s.workflow_result(&id)["status"], "failed");
    let st = step(&s, &id, "2");
    assert_eq!(st["status"], "failed", "{st}");
    assert!(
        st["error"]
            .as_str()
            .unwrap_or("")
            .contains("division by zero"),
        "{st}"
    );
    assert!(st["finished_at"].is_string(), "{st}");
    assert_eq!(step(&s, &id, "1")["status"], "completed");
}

#[test]
fn cancel_stops_a_waiting_workflow_and_its_children() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("sleeper", "task", "WAIT 30\nRETURN 1\n");
    bots.script(
        "parent",
        "start",
        "STEP 1: BOT \"sleeper\" \"nap\"\nRETURN 2\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("parent", "start", json!({}));
    common::server::eventually(10.0, "child waiting", || {
        let n = db.count("SELECT count(*) AS n FROM workflow_executions WHERE bot = 'sleeper' AND status = 'waiting'");
        if n == 1 {
            Ok(())
        } else {
            Err(format!("{n} waiting"))
        }
    });
    let (code, v) = s.post(&format!("/api/workflows/{id}/cancel"), json!({}));
    assert_eq!(code, 200, "{v}");
    assert_eq!(s.workflow_result(&id)["status"], "cancelled");
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE status = 'cancelled'"),
        2
    );
    let (code, _) = s.post(&format!("/api/workflows/{id}/cancel"), json!({}));
    assert_eq!(code, 409);
}
