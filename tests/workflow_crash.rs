//! Workflows survive SIGKILL at any point: during a delegated step, while waiting for an
//! approval, while parallel branches run, and at random moments over and over. After a
//! restart every workflow completes and every delegated task's recorded side effect
//! (a `task_done` event and a memory key, both journaled) happened exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::db::TestDb;
use common::server::{eventually, BotDir, Server};
use serde_json::{json, Value};

fn start(s: &Server, amount: i64) -> String {
    let (st, v) = s.post(
        "/api/workflows",
        json!({ "bot": "customer-support-workflow", "script": "start", "input": { "order_amount": amount } }),
    );
    assert_eq!(st, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

fn status(s: &Server, id: &str) -> Value {
    s.get(&format!("/api/workflows/{id}")).1
}

fn approve_pending(s: &Server) -> usize {
    let (_, a) = s.get("/api/approvals?status=pending&limit=1000");
    let list = a["approvals"].as_array().cloned().unwrap_or_default();
    for ap in &list {
        let (st, v) = s.post(
            &format!("/api/approvals/{}", ap["id"].as_str().unwrap()),
            json!({ "decision": "approve" }),
        );
        assert!(st == 200 || st == 409, "{v}");
    }
    list.len()
}

/// Every delegated task of every workflow ran its side effects exactly once.
fn assert_exactly_once(db: &TestDb, workflows: &[String]) {
    for id in workflows {
        let per_task = db.count(&format!(
            "SELECT count(*) AS n FROM (SELECT payload->>'task' FROM workflow_events WHERE name = 'task_done' \
             AND payload->>'workflow' = '{id}' GROUP BY 1 HAVING count(*) > 1) t"
        ));
        assert_eq!(per_task, 0, "a task of {id} published task_done twice");
        let tasks = db.count(&format!(
            "SELECT count(*) AS n FROM workflow_events WHERE name = 'task_done' AND payload->>'workflow' = '{id}'"
        ));
        assert_eq!(tasks, 5, "workflow {id} should have run 5 tasks once each");
        let done_keys = db.count(&format!(
            "SELECT count(*) AS n FROM bot_memories WHERE key LIKE 'done:%:{id}'"
        ));
        assert_eq!(done_keys, 5, "workflow {id}");
    }
}

fn wait_all_completed(s: &Server, ids: &[String], secs: f64) {
    eventually(secs, "all workflows completed", || {
        approve_pending(s);
        let open: Vec<String> = ids
            .iter()
            .filter(|id| status(s, id)["status"] != "completed")
            .map(|id| format!("{id}: {}", status(s, id)["status"]))
            .collect();
        if open.is_empty() {
            Ok(())
        } else {
            Err(open.join(", "))
        }
    });
}

#[test]
fn sigkill_during_delegation_approval_and_parallel_branches() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = Server::start(&db.url, &bots.path);
    // (a) killed right after start: the first delegated steps are under way.
    let a = start(&s, 150);
    s.kill();
    let s = Server::start(&db.url, &bots.path);
    // (b) killed while waiting for the approval.
    eventually(20.0, "waiting for approval", || {
        let d = status(&s, &a);
        if d["waiting_for"]["kind"] == "approval" {
            Ok(())
        } else {
            Err(d["waiting_for"].to_string())
        }
    });
    s.kill();
    let s = Server::start(&db.url, &bots.path);
    assert_eq!(approve_pending(&s), 1);
    // (c) killed while the parallel branches wait on their timers.
    eventually(20.0, "parallel branches running", || {
        let d = status(&s, &a);
        if d["waiting_for"]["kind"] == "parallel" {
            Ok(())
        } else {
            Err(d["waiting_for"].to_string())
        }
    });
    s.kill();
    let s = Server::start(&db.url, &bots.path);
    wait_all_completed(&s, std::slice::from_ref(&a), 30.0);
    assert_eq!(status(&s, &a)["result"]["status"], "resolved");
    assert_exactly_once(&db, &[a]);
}

#[test]
fn sigkill_at_random_moments() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let mut s = Server::start(&db.url, &bots.path);
    let ids: Vec<String> = (0..6)
        .map(|i| start(&s, if i % 2 == 0 { 150 } else { 50 }))
        .collect();
    for round in 0..6u64 {
        approve_pending(&s);
        std::thread::sleep(Duration::from_millis(150 + (round * 97) % 400));
        s.kill();
        s = Server::start(&db.url, &bots.path);
    }
    wait_all_completed(&s, &ids, 60.0);
    assert_exactly_once(&db, &ids);
}

/// Group commit: every workflow whose start was acknowledged as completed has its three
/// steps in the journal after a SIGKILL that lands while many others are being started.
#[test]
fn acknowledged_steps_survive_sigkill_under_group_commit() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "three",
        "start",
        "STEP 1: x = x + 1\nSTEP 2: x = x + 1\nSTEP 3: x = x + 1\nRETURN x\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let acknowledged = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..2000 {
                    let agent = ureq::AgentBuilder::new()
                        .timeout(Duration::from_secs(5))
                        .build();
                    let r = agent
                        .post(&format!("{}/api/workflows", s.base))
                        .send_string(
                            &json!({ "bot": "three", "script": "start", "input": {} }).to_string(),
                        );
                    let Ok(r) = r else { return };
                    let v: Value = serde_json::from_str(&r.into_string().unwrap_or_default())
                        .unwrap_or_default();
                    if v["status"] == "completed" {
                        acknowledged
                            .lock()
                            .unwrap()
                            .push(v["id"].as_str().unwrap().to_string());
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1500));
        // Kill while the callers are still starting workflows.
        let _ = std::process::Command::new("kill")
            .arg("-9")
            .arg(s.pid().to_string())
            .status();
    });
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(
        acknowledged.len() > 10,
        "too few workflows before the kill: {}",
        acknowledged.len()
    );
    for id in &acknowledged {
        let steps = db.count(&format!(
            "SELECT count(*) AS n FROM journal WHERE execution_id = '{id}' AND key IN ('1!end', '2!end', '3!end')"
        ));
        assert_eq!(
            steps, 3,
            "workflow {id} was reported completed but its steps are not all journaled"
        );
        let done = db.count(&format!(
            "SELECT count(*) AS n FROM workflow_executions WHERE id = '{id}' AND status = 'completed' AND result = '3'"
        ));
        assert_eq!(done, 1, "workflow {id}");
    }
}
