//! The customer-support workflow of `bottemplates/` end to end against a real server:
//! delegation, human approval (tokens, 403s, timeouts, escalation), parallel branches
//! that really overlap, and the run without approval for small orders.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{eventually, BotDir, Options, Server};
use serde_json::{json, Value};

const ADMIN: &str = "admin-secret-for-tests";

fn admin_server(db: &TestDb, bots: &BotDir) -> Server {
    Server::start_with(
        &db.url,
        &bots.path,
        Options {
            admin_token: Some(ADMIN.into()),
            ..Options::default()
        },
    )
}

fn start(s: &Server, bot: &str, script: &str, input: Value) -> String {
    let (st, v) = s.post_auth(
        "/api/workflows",
        json!({ "bot": bot, "script": script, "input": input }),
        ADMIN,
    );
    assert_eq!(st, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

fn detail(s: &Server, id: &str) -> Value {
    s.get_auth(&format!("/api/workflows/{id}"), ADMIN).1
}

/// Waits until the workflow waits for an approval; returns (approval id, token, approver).
fn pending_approval(s: &Server, id: &str) -> (String, String, String) {
    eventually(20.0, "workflow waiting for approval", || {
        let d = detail(s, id);
        if d["waiting_for"]["kind"] == "approval" {
            let approval = d["waiting_for"]["approval_id"]
                .as_str()
                .unwrap()
                .to_string();
            let (_, evs) = s.get_auth("/api/events?name=approval_requested&limit=1000", ADMIN);
            let ev = evs["events"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["payload"]["approval_id"] == approval.as_str())
                .cloned()
                .ok_or("no approval_requested event yet")?;
            Ok((
                approval,
                ev["payload"]["token"].as_str().unwrap().to_string(),
                ev["payload"]["approver"].as_str().unwrap().to_string(),
            ))
        } else {
            Err(format!(
                "status {} waiting_for {}",
                d["status"], d["waiting_for"]
            ))
        }
    })
}

fn result(s: &Server, id: &str) -> Value {
    let (st, r) = s.get_auth(&format!("/api/workflows/{id}/result?timeout=30"), ADMIN);
    assert_eq!(st, 200, "{r}");
    r
}

#[test]
fn order_150_needs_approval_and_runs_branches_in_parallel() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = admin_server(&db, &bots);
    let id = start(
        &s,
        "customer-support-workflow",
        "start",
        json!({ "order_amount": 150 }),
    );
    let (approval, token, approver) = pending_approval(&s, &id);
    assert_eq!(approver, "manager@company.com");

    // A wrong token, and another approval's token, cannot decide it.
    let (st, v) = s.post_auth(
        &format!("/api/approvals/{approval}"),
        json!({ "decision": "approve" }),
        "not-the-token",
    );
    assert_eq!(st, 403, "{v}");
    let other = start(
        &s,
        "customer-support-workflow",
        "start",
        json!({ "order_amount": 500 }),
    );
    let (other_approval, other_token, _) = pending_approval(&s, &other);
    let (st, v) = s.post_auth(
        &format!("/api/approvals/{approval}"),
        json!({ "decision": "approve" }),
        &other_token,
    );
    assert_eq!(st, 403, "another approver's token: {v}");
    let (st, v) = s.post(
        &format!("/api/approvals/{approval}"),
        json!({ "decision": "approve" }),
    );
    assert_eq!(st, 401, "no token at all: {v}");
    let (st, v) = s.post_auth(
        &format!("/api/approvals/{approval}"),
        json!({ "decision": "maybe" }),
        &token,
    );
    assert_eq!(st, 400, "{v}");

    let (st, v) = s.post_auth(
        &format!("/api/approvals/{approval}"),
        json!({ "decision": "approve", "comment": "fine" }),
        &token,
    );
    assert_eq!(st, 200, "{v}");
    let (st, v) = s.post_auth(
        &format!("/api/approvals/{approval}"),
        json!({ "decision": "reject" }),
        &token,
    );
    assert_eq!(st, 409, "decided once only: {v}");

    let r = result(&s, &id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"]["status"], "resolved");
    assert_eq!(r["result"]["approval"]["status"], "approved");
    assert_eq!(r["result"]["approval"]["by"], "manager@company.com");

    let d = detail(&s, &id);
    let steps: Vec<(String, String, String, i64)> = d["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["key"].as_str().unwrap().to_string(),
                s["kind"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
                s["attempts"].as_i64().unwrap(),
            )
        })
        .collect();
    let expect =
        |k: &str, kind: &str| (k.to_string(), kind.to_string(), "completed".to_string(), 1);
    assert_eq!(
        steps,
        vec![
            expect("1", "bot"),
            expect("2", "bot"),
            expect("3", "approval"),
            expect("4", "parallel"),
            expect("5", "bot")
        ]
    );
    // The two branches' delegated tasks ran at the same time.
    #[derive(diesel::QueryableByName, Debug)]
    struct Span {
        #[diesel(sql_type = diesel::sql_types::Text)]
        bot: String,
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        created_at: chrono::DateTime<chrono::Utc>,
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        finished_at: chrono::DateTime<chrono::Utc>,
    }
    use diesel::RunQueryDsl;
    let spans: Vec<Span> = diesel::sql_query(format!(
        "SELECT bot, created_at, finished_at FROM workflow_executions WHERE bot IN ('refund-processor', 'inventory-updater') \
         AND input->>'workflow_id' = '{id}' ORDER BY bot"
    ))
    .load(&mut db.conn())
    .unwrap();
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert_eq!(
        (spans[0].bot.as_str(), spans[1].bot.as_str()),
        ("inventory-updater", "refund-processor")
    );
    assert!(
        spans[0].created_at < spans[1].finished_at && spans[1].created_at < spans[0].finished_at,
        "branch run times do not overlap: {spans:?}"
    );
    // The recorded events of the approval.
    let (_, evs) = s.get_auth("/api/events?name=approval_received", ADMIN);
    assert!(evs["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["payload"]["approval_id"] == approval.as_str()));

    // The other workflow, rejected by the admin, ends without a refund.
    let (st, v) = s.post_auth(
        &format!("/api/approvals/{other_approval}"),
        json!({ "decision": "reject" }),
        ADMIN,
    );
    assert_eq!(st, 200, "{v}");
    let r = result(&s, &other);
    assert_eq!(r["result"]["refunded"], false, "{r}");
    let (_, evs) = s.get_auth("/api/events?name=approval_denied", ADMIN);
    assert_eq!(evs["events"].as_array().unwrap().len(), 1);
}

#[test]
fn order_50_has_no_approval_step() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = admin_server(&db, &bots);
    let id = start(
        &s,
        "customer-support-workflow",
        "start",
        json!({ "order_amount": 50 }),
    );
    let r = result(&s, &id);
    assert_eq!(r["status"], "completed", "{r}");
    let d = detail(&s, &id);
    let keys: Vec<&str> = d["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["1", "2", "4", "5"]);
    assert_eq!(db.count("SELECT count(*) AS n FROM approvals"), 0);
    // Routes need the admin token when one is set.
    let (st, _) = s.get(&format!("/api/workflows/{id}"));
    assert_eq!(st, 401);
}

const TIMEOUTS: &str = r#"
ORCHESTRATE WORKFLOW "timeouts"
  STEP 1: HUMAN APPROVAL FROM "manager@company.com"
    TIMEOUT 1
    ON TIMEOUT: ESCALATE TO "director@company.com"
  STEP 2: HUMAN APPROVAL FROM "nobody@company.com" TIMEOUT 1
  RETURN { first: step1.status, first_by: step1.by, second: approval.status }
END WORKFLOW
"#;

#[test]
fn timeout_escalates_then_times_out_and_goes_on() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("approvals", "start", TIMEOUTS);
    let s = admin_server(&db, &bots);
    let id = start(&s, "approvals", "start", json!({}));
    let (first, _, who) = pending_approval(&s, &id);
    assert_eq!(who, "manager@company.com");
    // After a second the manager's request times out and passes to the director.
    let (escalated, token, who) = eventually(15.0, "escalation to the director", || {
        let (a, t, w) = pending_approval(&s, &id);
        if a != first {
            Ok((a, t, w))
        } else {
            Err("still the manager's request".into())
        }
    });
    assert_eq!(who, "director@company.com");
    let (_, a) = s.get_auth(&format!("/api/approvals?workflow={id}"), ADMIN);
    let statuses: Vec<&str> = a["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"escalated"), "{a}");
    let (st, v) = s.post_auth(
        &format!("/api/approvals/{escalated}"),
        json!({ "decision": "approve" }),
        &token,
    );
    assert_eq!(st, 200, "{v}");
    // Step 2 has no ESCALATE TO: it times out and the workflow decides.
    let r = result(&s, &id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(
        r["result"],
        json!({ "first": "approved", "first_by": "director@company.com", "second": "timeout" })
    );
    let (_, evs) = s.get_auth("/api/events?name=timeout_occurred", ADMIN);
    let evs = evs["events"].as_array().unwrap();
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0]["payload"]["who"], "nobody@company.com");
    assert_eq!(evs[0]["payload"]["step"], "2");
    assert_eq!(evs[0]["payload"]["workflow_id"], id.as_str());
}
