//! The operator's routes against a real server: cancelling must end the whole tree
//! (branches, their children, approvals, event waits) and say so with an event; the
//! detail shows the whole tree; the list refuses unknown statuses and pages with a
//! cursor; a retry runs the newest or the pinned script versions as asked; an approval
//! decision records who really decided.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{eventually, BotDir, Options, Server};
use serde_json::json;

/// A workflow whose two branches each delegate: one to a task waiting for an approval,
/// one to a task waiting for an event that never comes.
fn tree_bots() -> BotDir {
    let bots = BotDir::new();
    bots.script(
        "asker",
        "task",
        "HUMAN APPROVAL FROM \"boss@example.com\"\nRETURN approval\n",
    );
    bots.script(
        "listener",
        "task",
        "WAIT FOR EVENT \"never.happens\"\nRETURN event\n",
    );
    bots.script(
        "tree",
        "start",
        "ORCHESTRATE WORKFLOW \"tree\"\n  STEP 1: PARALLEL\n    BRANCH A: BOT \"asker\" \"ask\"\n    BRANCH B: BOT \"listener\" \"listen\"\n  END PARALLEL\n  RETURN step1\nEND WORKFLOW\n",
    );
    bots
}

/// Waits until both tasks of [`tree_bots`] wait (the approval asked, the event wait
/// registered).
fn await_tree(db: &TestDb) {
    eventually(20.0, "both tasks waiting", || {
        let approvals = db.count("SELECT count(*) AS n FROM approvals WHERE status = 'pending'");
        let waits = db.count("SELECT count(*) AS n FROM event_waits");
        let waiting = db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE kind = 'task' AND status = 'waiting'",
        );
        if approvals == 1 && waits == 1 && waiting == 2 {
            Ok(())
        } else {
            Err(format!(
                "{approvals} pending approvals, {waits} event waits, {waiting} tasks waiting"
            ))
        }
    });
}

#[test]
fn cancel_ends_the_whole_tree_and_publishes_workflow_cancelled() {
    let db = TestDb::new();
    let bots = tree_bots();
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("tree", "start", json!({}));
    await_tree(&db);
    let (_, pending) = s.get("/api/approvals?status=pending");
    let approval = pending["approvals"][0]["id"].as_str().unwrap().to_string();

    let (code, v) = s.post(&format!("/api/workflows/{id}/cancel"), json!({}));
    assert_eq!(code, 200, "{v}");
    assert_eq!(s.workflow_result(&id)["status"], "cancelled");
    // The root, two branches and their two tasks: all cancelled, none waiting for anything.
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE status = 'cancelled'"),
        5
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE status <> 'cancelled' OR waiting_for IS NOT NULL OR wake_at IS NOT NULL"),
        0
    );
    let (_, d) = s.get(&format!("/api/workflows/{id}"));
    assert!(d["waiting_for"].is_null(), "{d}");
    // The approval is closed and can no longer be decided; the event wait is gone.
    assert_eq!(
        db.count("SELECT count(*) AS n FROM approvals WHERE status = 'cancelled'"),
        1
    );
    let (code, v) = s.post(
        &format!("/api/approvals/{approval}"),
        json!({ "decision": "approve" }),
    );
    assert_eq!(code, 409, "{v}");
    assert_eq!(db.count("SELECT count(*) AS n FROM event_waits"), 0);
    let (_, evs) = s.get("/api/events?name=workflow_cancelled");
    let evs = evs["events"].as_array().unwrap().clone();
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0]["payload"]["workflow_id"], id.as_str());
    assert_eq!(evs[0]["payload"]["cancelled"].as_array().unwrap().len(), 5);
    // Publishing the awaited event now wakes nothing.
    let (code, _) = s.post(
        "/api/events",
        json!({ "name": "never.happens", "payload": {} }),
    );
    assert!(code < 300);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE status <> 'cancelled'"),
        0
    );
}

#[test]
fn detail_shows_the_whole_tree() {
    let db = TestDb::new();
    let bots = tree_bots();
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("tree", "start", json!({}));
    await_tree(&db);
    let (_, d) = s.get(&format!("/api/workflows/{id}"));
    let branches = d["children"].as_array().unwrap();
    assert_eq!(branches.len(), 2, "{d}");
    let mut tasks: Vec<String> = Vec::new();
    for b in branches {
        assert_eq!(b["kind"], "branch", "{b}");
        let kids = b["children"].as_array().unwrap();
        assert_eq!(kids.len(), 1, "{b}");
        assert_eq!(kids[0]["kind"], "task");
        assert_eq!(kids[0]["status"], "waiting");
        assert_eq!(kids[0]["children"], json!([]));
        tasks.push(kids[0]["bot"].as_str().unwrap().to_string());
    }
    tasks.sort();
    assert_eq!(tasks, ["asker", "listener"]);
}

#[test]
fn list_refuses_unknown_status_and_pages_with_a_cursor() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("quick", "start", "RETURN 1\n");
    let s = Server::start(&db.url, &bots.path);
    let ids: Vec<String> = (0..5)
        .map(|_| s.start_workflow("quick", "start", json!({})))
        .collect();

    let (code, v) = s.get("/api/workflows?status=bogus");
    assert_eq!(code, 400, "{v}");
    let msg = v["message"].as_str().unwrap();
    for allowed in ["running", "waiting", "completed", "failed", "cancelled"] {
        assert!(msg.contains(allowed), "{msg}");
    }
    let (code, v) = s.get("/api/workflows?after=not-a-uuid");
    assert_eq!(code, 400, "{v}");
    let (code, v) = s.get("/api/workflows?limit=0");
    assert_eq!(code, 400, "{v}");

    // Newest first, two at a time, following `next`.
    let mut seen = Vec::new();
    let mut path = "/api/workflows?limit=2".to_string();
    loop {
        let (code, page) = s.get(&path);
        assert_eq!(code, 200, "{page}");
        let rows = page["workflows"].as_array().unwrap();
        assert!(rows.len() <= 2, "{page}");
        seen.extend(rows.iter().map(|r| r["id"].as_str().unwrap().to_string()));
        match page["next"].as_str() {
            Some(next) => path = format!("/api/workflows?limit=2&after={next}"),
            None => break,
        }
        assert!(seen.len() <= 5, "paging does not end: {seen:?}");
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
    let (_, v) = s.get("/api/workflows?status=completed&limit=1000");
    assert_eq!(v["workflows"].as_array().unwrap().len(), 5);
}

#[test]
fn retry_runs_the_latest_or_the_pinned_version() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("helper", "task", "RETURN \"helper v1\"\n");
    let v1 = "ORCHESTRATE WORKFLOW \"versions\"\n  STEP 1: r = RANDOM(1, 1000000000)\n  STEP 2: BOT \"helper\" \"help\"\n  STEP 3: y = 1 / 0\n  RETURN \"v1\"\nEND WORKFLOW\n";
    bots.script("versions", "start", v1);
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("versions", "start", json!({}));
    assert_eq!(s.workflow_result(&id)["status"], "failed");
    let r1 = s.get(&format!("/api/workflows/{id}")).1["variables"]["r"].clone();
    assert!(r1.is_number(), "{r1}");

    // Fixed: the workflow's own script and the helper's. A pinned retry runs the old
    // workflow script again (and fails the same way).
    bots.script(
        "versions",
        "start",
        "ORCHESTRATE WORKFLOW \"versions\"\n  STEP 1: r = RANDOM(1, 1000000000)\n  STEP 2: BOT \"helper\" \"help\"\n  STEP 3: y = 2\n  RETURN \"v2 \" + step2\nEND WORKFLOW\n",
    );
    bots.script("helper", "task", "RETURN \"helper v2\"\n");
    let (code, v) = s.post(
        &format!("/api/workflows/{id}/retry"),
        json!({ "version": "pinned" }),
    );
    assert_eq!(code, 200, "{v}");
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "failed", "pinned runs the old script: {r}");

    let (code, v) = s.post(
        &format!("/api/workflows/{id}/retry"),
        json!({ "version": "sideways" }),
    );
    assert_eq!(code, 400, "{v}");

    // The default is the newest version; the steps journaled before the failed one are
    // kept (step 1's number is the first one, step 2's helper answer too).
    let (code, v) = s.post(&format!("/api/workflows/{id}/retry"), json!({}));
    assert_eq!(code, 200, "{v}");
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], "v2 helper v1");
    let r2 = s.get(&format!("/api/workflows/{id}")).1["variables"]["r"].clone();
    assert_eq!(r1, r2);
}

#[test]
fn pinned_retry_runs_the_failed_child_on_its_version() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("worker", "task", "x = 1 / 0\n");
    bots.script(
        "pins",
        "start",
        "ORCHESTRATE WORKFLOW \"pins\"\n  STEP 1: BOT \"worker\" \"work\"\n  RETURN step1\nEND WORKFLOW\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("pins", "start", json!({}));
    assert_eq!(s.workflow_result(&id)["status"], "failed");
    bots.script("worker", "task", "RETURN \"fixed\"\n");
    let (code, v) = s.post(
        &format!("/api/workflows/{id}/retry"),
        json!({ "version": "pinned" }),
    );
    assert_eq!(code, 200, "{v}");
    let r = s.workflow_result(&id);
    assert_eq!(
        r["status"], "failed",
        "pinned reruns the old child script: {r}"
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE bot = 'worker' AND status = 'failed'"),
        2
    );
    let (code, v) = s.post(
        &format!("/api/workflows/{id}/retry"),
        json!({ "version": "latest" }),
    );
    assert_eq!(code, 200, "{v}");
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], "fixed");
}

fn approval_bots() -> BotDir {
    let bots = BotDir::new();
    bots.script(
        "ask",
        "start",
        "STEP 1: HUMAN APPROVAL FROM \"manager@example.com\"\nRETURN approval\n",
    );
    bots
}

/// Waits for the pending approval of `id`; returns its id and token.
fn pending(s: &Server, id: &str, admin: Option<&str>) -> (String, String) {
    eventually(20.0, "approval requested", || {
        let path = "/api/events?name=approval_requested&limit=1000";
        let (_, evs) = match admin {
            Some(t) => s.get_auth(path, t),
            None => s.get(path),
        };
        evs["events"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["payload"]["workflow_id"] == id)
            .map(|e| {
                (
                    e["payload"]["approval_id"].as_str().unwrap().to_string(),
                    e["payload"]["token"].as_str().unwrap().to_string(),
                )
            })
            .ok_or_else(|| format!("no approval_requested event for {id} yet"))
    })
}

fn decided_by(db: &TestDb, approval: &str) -> String {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        by: String,
    }
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT coalesce(decided_by, '') AS by FROM approvals WHERE id = '{approval}'"
    ))
    .load(&mut db.conn())
    .unwrap();
    rows.into_iter().next().map(|r| r.by).unwrap_or_default()
}

#[test]
fn decisions_record_who_really_decided() {
    let db = TestDb::new();
    let bots = approval_bots();
    let s = Server::start(&db.url, &bots.path);

    // Development mode without a token: the admin decided.
    let id = s.start_workflow("ask", "start", json!({}));
    let (approval, _) = pending(&s, &id, None);
    let (code, v) = s.post(
        &format!("/api/approvals/{approval}"),
        json!({ "decision": "approve" }),
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(decided_by(&db, &approval), "admin");
    assert_eq!(s.workflow_result(&id)["result"]["by"], "admin");

    // With the approval's own token: the approver decided.
    let id = s.start_workflow("ask", "start", json!({}));
    let (approval, token) = pending(&s, &id, None);
    let (code, v) = s.post_auth(
        &format!("/api/approvals/{approval}"),
        json!({ "decision": "reject" }),
        &token,
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(decided_by(&db, &approval), "manager@example.com");
    assert_eq!(
        s.workflow_result(&id)["result"]["by"],
        "manager@example.com"
    );
}

#[test]
fn the_admin_token_decides_as_admin() {
    const ADMIN: &str = "operator-actions-admin";
    let db = TestDb::new();
    let bots = approval_bots();
    let s = Server::start_with(
        &db.url,
        &bots.path,
        Options {
            admin_token: Some(ADMIN.into()),
            ..Options::default()
        },
    );
    let (st, v) = s.post_auth(
        "/api/workflows",
        json!({ "bot": "ask", "script": "start", "input": {} }),
        ADMIN,
    );
    assert_eq!(st, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (approval, _) = pending(&s, &id, Some(ADMIN));
    let (code, v) = s.post_auth(
        &format!("/api/approvals/{approval}"),
        json!({ "decision": "approve" }),
        ADMIN,
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(decided_by(&db, &approval), "admin");
}
