//! The console in a real browser: headless Chromium (Debian's package) driven by
//! playwright-core (`tests/browser/console.mjs`). It tries to break what an operator
//! relies on: that a waiting workflow shows as waiting, that approving it from the
//! inbox moves the open detail page to `completed` without a reload, that only the
//! admin token logs in, that a form post without the page's CSRF token changes
//! nothing, and that an approver's link decides its own request and no other.
//!
//! Screenshots of every page go to `target/tmp/console-screenshots/` (the test run's
//! output folder, `CARGO_TARGET_TMPDIR`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{BotDir, Options, Server};
use serde_json::json;

const ADMIN: &str = "console-admin-token";

fn start(s: &Server, amount: i64) -> String {
    let (st, v) = s.request(
        "POST",
        "/api/workflows",
        Some(
            json!({"bot": "customer-support-workflow", "script": "start",
                   "input": {"order_amount": amount}})
            .to_string(),
        ),
        Some(ADMIN),
    );
    assert_eq!(st, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

#[test]
fn an_operator_approves_in_the_browser_and_watches_the_workflow_complete() {
    common::browser::setup();

    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = Server::start_with(
        &db.url,
        &bots.path,
        Options {
            admin_token: Some(ADMIN.into()),
            ..Default::default()
        },
    );
    let wf = start(&s, 150);
    let keep = start(&s, 200);
    let third = start(&s, 300);
    s.approval_of(&wf, Some(ADMIN));
    let (other_id, _) = s.approval_of(&keep, Some(ADMIN));
    let (approve_id, approve_token) = s.approval_of(&third, Some(ADMIN));
    let (st, conv) = s.post("/api/bots/support/conversations", json!({}));
    assert_eq!(st, 201, "{conv}");
    let conv = conv["id"].as_str().unwrap().to_string();

    common::browser::run(
        "console.mjs",
        &[
            ("BASE", &s.base),
            ("TOKEN", ADMIN),
            ("WF", &wf),
            ("WF_KEEP", &keep),
            ("CONV", &conv),
            ("APPROVE_ID", &approve_id),
            ("APPROVE_TOKEN", &approve_token),
            ("OTHER_ID", &other_id),
        ],
        || s.log_text(),
    );

    // What the browser did is what the server holds.
    let (_, d) = s.get_auth(&format!("/api/workflows/{wf}"), ADMIN);
    assert_eq!(d["status"], "completed", "{d}");
    let (_, a) = s.get_auth(&format!("/api/approvals?workflow={wf}"), ADMIN);
    let decided = &a["approvals"][0];
    assert_eq!(decided["status"], "approved", "{a}");
    assert_eq!(decided["comment"], "approved in the browser test", "{a}");
    // The forged posts cancelled nothing, and the approver's token decided only its own.
    let (_, k) = s.get_auth(&format!("/api/workflows/{keep}"), ADMIN);
    assert_eq!(k["status"], "waiting", "{k}");
    let (_, o) = s.get_auth(&format!("/api/approvals?workflow={keep}"), ADMIN);
    assert_eq!(o["approvals"][0]["status"], "pending", "{o}");
    let (_, done) = s.get_auth(&format!("/api/workflows/{third}/result?timeout=30"), ADMIN);
    assert_eq!(done["status"], "completed", "{done}");
    let (_, t) = s.get_auth(&format!("/api/approvals?workflow={third}"), ADMIN);
    assert_eq!(
        t["approvals"][0]["decided_by"], "manager@company.com",
        "{t}"
    );
    common::browser::assert_shots(&[
        "login",
        "workflows",
        "workflow-waiting",
        "approvals",
        "workflow-completed",
        "overview",
        "events",
        "bots",
        "bot",
        "conversation",
        "phone-workflow",
        "approver-link",
        "designer",
    ]);
}
