//! The orchestration forms real General Bots workflows use, run by the real server:
//! `ON TIMEOUT: APPROVE` / `ON TIMEOUT: REJECT …` decide a request whose time ran out;
//! the same `STEP` label in the two arms of an IF is one step (only one arm runs);
//! `RETRY n TIMES WITH BACKOFF s SECONDS` re-runs a failing step.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{BotDir, Server};
use serde_json::json;

#[test]
fn on_timeout_approve_or_reject_decides_the_request() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "reviewer",
        "start",
        "ORCHESTRATE WORKFLOW \"review\"\n\
         IF amount > 100 THEN\n\
         \x20 STEP 2: HUMAN APPROVAL FROM \"manager@example.com\"\n\
         \x20   TIMEOUT 1\n\
         \x20   ON TIMEOUT: REJECT ORDER\n\
         ELSE\n\
         \x20 STEP 2: HUMAN APPROVAL FROM \"clerk@example.com\"\n\
         \x20   TIMEOUT 1\n\
         \x20   ON TIMEOUT: APPROVE WITH WARNING\n\
         END IF\n\
         RETURN { status: approval.status, by: approval.by, comment: approval.comment }\n\
         END WORKFLOW\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let small = s.start_workflow("reviewer", "start", json!({ "amount": 50 }));
    let big = s.start_workflow("reviewer", "start", json!({ "amount": 500 }));

    let r = s.workflow_result(&small);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(
        r["result"],
        json!({ "status": "approved", "by": "timeout", "comment": "with warning" })
    );
    let r = s.workflow_result(&big);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(
        r["result"],
        json!({ "status": "rejected", "by": "timeout", "comment": "order" })
    );
    // One step "2" in each workflow, whichever arm ran.
    for id in [&small, &big] {
        let (_, d) = s.get(&format!("/api/workflows/{id}"));
        let twos = d["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|st| st["key"] == "2")
            .count();
        assert_eq!(twos, 1, "{d}");
    }
}

#[test]
fn retry_times_with_backoff_seconds_reruns_the_step() {
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
        "ORCHESTRATE WORKFLOW \"retrying\"\n  STEP 1: BOT \"flaky\" \"work\"\n    RETRY 3 TIMES WITH BACKOFF 0.1 SECONDS\n  RETURN step1\nEND WORKFLOW\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("retrier", "start", json!({}));
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], json!({ "calls": 3 }));
}
