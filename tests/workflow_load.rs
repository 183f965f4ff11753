//! 1,000 customer-support workflows in flight at once, approvals decided through the
//! API as they come: every workflow completes, every step exactly once (steps, children
//! and the tasks' own `task_done` events are counted).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use common::db::TestDb;
use common::server::{BotDir, Server};
use serde_json::json;

#[test]
fn a_thousand_workflows_in_flight() {
    const N: usize = 1000;
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = Server::start(&db.url, &bots.path);
    let started = Instant::now();
    let ids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let s = &s;
                scope.spawn(move || {
                    (0..N / 8)
                        .map(|i| {
                            let amount = if (t + i) % 2 == 0 { 150 } else { 50 };
                            let (st, v) = s.post(
                                "/api/workflows",
                                json!({ "bot": "customer-support-workflow", "script": "start",
                                        "input": { "order_amount": amount } }),
                            );
                            assert_eq!(st, 201, "{v}");
                            v["id"].as_str().unwrap().to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(ids.len(), N);
    let mut approved = 0;
    loop {
        let done = db.count("SELECT count(*) AS n FROM workflow_executions WHERE kind = 'workflow' AND status = 'completed'");
        if done == N as i64 {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 600,
            "only {done} of {N} completed; statuses: {}",
            db.count("SELECT count(*) AS n FROM workflow_executions WHERE status = 'failed'")
        );
        let (_, a) = s.get("/api/approvals?status=pending&limit=1000");
        for ap in a["approvals"].as_array().unwrap() {
            let (st, v) = s.post(
                &format!("/api/approvals/{}", ap["id"].as_str().unwrap()),
                json!({ "decision": "approve" }),
            );
            assert_eq!(st, 200, "{v}");
            approved += 1;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(approved, N / 2, "one approval per order over 100");
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE status = 'failed'"),
        0
    );
    // Steps: 5 for orders needing approval, 4 for the others — each completed once.
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_steps WHERE status = 'completed'"),
        (N / 2 * 5 + N / 2 * 4) as i64
    );
    // Children: 5 tasks and 2 branches per workflow, no more.
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE kind = 'task'"),
        (N * 5) as i64
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE kind = 'branch'"),
        (N * 2) as i64
    );
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM (SELECT payload->>'workflow', payload->>'task' FROM workflow_events \
             WHERE name = 'task_done' GROUP BY 1, 2 HAVING count(*) = 1) t"
        ),
        (N * 5) as i64
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_events WHERE name = 'task_done'"),
        (N * 5) as i64
    );
}
