//! The workflow templates of `bottemplates/` run end to end by the real server, each on a
//! database of its own: started over the HTTP API, their approvals decided with the
//! approvers' tokens (approve, reject and time out), the events they wait for published,
//! and what they leave behind checked: the result, the steps, the events they publish, the
//! memory they write and share. Tries to break the claim that every template shipped is a
//! working workflow on every path it has, and that "new workflow from a template" gives a
//! bot a script that is drawn and runs at once (and refuses what it must, in JSON).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{eventually, BotDir, Options, Server};
use serde_json::{json, Value};

fn templates_server(db: &TestDb, bots: &BotDir) -> Server {
    Server::start(&db.url, &bots.path)
}

/// Decides an approval with its own token (so `by` is the approver).
fn decide(s: &Server, approval: &str, token: &str, decision: &str) {
    let (st, v) = s.post_auth(
        &format!("/api/approvals/{approval}"),
        json!({ "decision": decision, "comment": "by the test" }),
        token,
    );
    assert_eq!(st, 200, "deciding {approval}: {v}");
}

/// Waits for `wf`'s pending approval and returns (id, token, approver).
fn pending(s: &Server, wf: &str) -> (String, String, String) {
    let (id, token) = s.approval_of(wf, None);
    let (_, a) = s.get(&format!("/api/approvals?workflow={wf}"));
    let approver = a["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id.as_str())
        .map(|x| x["approver"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    (id, token, approver)
}

/// Waits until `wf` has a pending request for `approver` (after an escalation, say) and
/// returns its id and token.
fn pending_from(s: &Server, wf: &str, approver: &str) -> (String, String) {
    eventually(20.0, &format!("{wf} to ask {approver}"), || {
        let (_, a) = s.get(&format!("/api/approvals?workflow={wf}&status=pending"));
        let id = a["approvals"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["approver"] == approver))
            .and_then(|x| x["id"].as_str())
            .ok_or_else(|| format!("pending: {a}"))?
            .to_string();
        let token = events(s, "approval_requested")
            .iter()
            .find(|e| e["payload"]["approval_id"] == id.as_str())
            .and_then(|e| e["payload"]["token"].as_str())
            .ok_or("no approval_requested event yet")?
            .to_string();
        Ok((id, token))
    })
}

/// The approvers asked by `wf` with what became of each request, oldest first.
fn asked(s: &Server, wf: &str) -> Vec<(String, String)> {
    let (_, a) = s.get(&format!("/api/approvals?workflow={wf}"));
    let mut rows: Vec<(String, String, String)> = a["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].as_str().unwrap().to_string(),
                x["approver"].as_str().unwrap().to_string(),
                x["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Approval ids are UUID v7: they sort by creation.
    rows.sort();
    rows.into_iter()
        .map(|(_, who, status)| (who, status))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The workflow's end: `{status, result}` (completed asserted).
fn finished(s: &Server, wf: &str) -> Value {
    let r = s.workflow_result(wf);
    assert_eq!(r["status"], "completed", "{wf}: {r}");
    r["result"].clone()
}

/// The events called `name`.
fn events(s: &Server, name: &str) -> Vec<Value> {
    let (st, v) = s.get(&format!("/api/events?name={name}&limit=1000"));
    assert_eq!(st, 200, "{v}");
    v["events"].as_array().unwrap().clone()
}

/// The payloads of the events called `name` whose `field` is `value`.
fn events_where(s: &Server, name: &str, field: &str, value: &str) -> Vec<Value> {
    events(s, name)
        .into_iter()
        .map(|e| e["payload"].clone())
        .filter(|p| p[field] == value)
        .collect()
}

fn publish(s: &Server, name: &str, payload: Value) {
    let (st, v) = s.post("/api/events", json!({ "name": name, "payload": payload }));
    assert_eq!(st, 201, "{v}");
}

fn memory(s: &Server, bot: &str) -> Value {
    let (st, v) = s.get(&format!("/api/bots/{bot}/memory"));
    assert_eq!(st, 200, "{v}");
    v["memory"].clone()
}

fn detail(s: &Server, wf: &str) -> Value {
    s.get(&format!("/api/workflows/{wf}")).1
}

/// The keys of the workflow's steps, in order, each with its kind.
fn steps(s: &Server, wf: &str) -> Vec<(String, String)> {
    detail(s, wf)["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            assert_eq!(st["status"], "completed", "{wf}: {st}");
            (
                st["key"].as_str().unwrap().to_string(),
                st["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn keys(steps: &[(String, String)]) -> Vec<&str> {
    steps.iter().map(|(k, _)| k.as_str()).collect()
}

/// Waits until `wf` waits for an event of these names.
fn waiting_for_event(s: &Server, wf: &str, names: Value) {
    eventually(20.0, &format!("{wf} to wait for {names}"), || {
        let d = detail(s, wf);
        if d["waiting_for"]["kind"] == "event" && d["waiting_for"]["names"] == names {
            Ok(())
        } else {
            Err(format!(
                "status {}, waiting_for {}",
                d["status"], d["waiting_for"]
            ))
        }
    })
}

#[test]
fn approval_chain_approves_rejects_escalates_and_times_out() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = templates_server(&db, &bots);
    let bot = "approval-chain";
    // Each approver has 2 s: the lead does not answer, the department head does; finance
    // and the CFO do not, and ON TIMEOUT: REJECT decides. Driven first, as it runs on
    // the clock.
    let escalated = s.start_workflow(
        bot,
        "start",
        json!({ "request": "a server", "amount": 5000, "review_timeout": 2 }),
    );
    // Nobody answers a small request: the lead's and the department head's time runs out.
    let unanswered = s.start_workflow(
        bot,
        "start",
        json!({ "request": "a chair", "amount": 100, "review_timeout": 1 }),
    );
    let small = s.start_workflow(
        bot,
        "start",
        json!({ "request": "a desk lamp", "requester": "ana@company.com", "amount": 300 }),
    );
    let large = s.start_workflow(bot, "start", json!({ "request": "a car", "amount": 5000 }));

    let (head, token) = pending_from(&s, &escalated, "department-head@company.com");
    decide(&s, &head, &token, "approve");

    let (a, token, who) = pending(&s, &small);
    assert_eq!(who, "team-lead@company.com");
    decide(&s, &a, &token, "approve");
    let r = finished(&s, &small);
    assert_eq!(r["status"], "approved", "{r}");
    assert_eq!(r["decided_by"], json!(["team-lead@company.com"]));
    assert_eq!(r["finance"], Value::Null, "300 needs no finance: {r}");
    assert_eq!(keys(&steps(&s, &small)), ["1", "3"]);

    let (a, token) = pending_from(&s, &large, "team-lead@company.com");
    decide(&s, &a, &token, "approve");
    let (f, token) = pending_from(&s, &large, "finance@company.com");
    decide(&s, &f, &token, "reject");
    let r = finished(&s, &large);
    assert_eq!(r["status"], "rejected", "{r}");
    assert_eq!(r["reason"], "rejected");
    assert_eq!(
        r["decided_by"],
        json!(["team-lead@company.com", "finance@company.com"])
    );
    assert_eq!(r["finance"]["comment"], "by the test");
    assert_eq!(
        steps(&s, &large),
        [
            ("1".to_string(), "approval".to_string()),
            ("2".to_string(), "approval".to_string()),
            ("3".to_string(), "task".to_string()),
        ]
    );

    let r = finished(&s, &escalated);
    assert_eq!(r["status"], "rejected", "{r}");
    assert_eq!(
        r["decided_by"],
        json!(["department-head@company.com", "timeout"])
    );
    assert_eq!(r["finance"]["comment"], "unanswered", "{r}");
    assert_eq!(
        asked(&s, &escalated),
        pairs(&[
            ("team-lead@company.com", "escalated"),
            ("department-head@company.com", "approved"),
            ("finance@company.com", "escalated"),
            ("cfo@company.com", "timeout"),
        ])
    );

    let r = finished(&s, &unanswered);
    assert_eq!(r["status"], "rejected", "{r}");
    assert_eq!(r["reason"], "timeout");
    assert_eq!(r["decided_by"], json!(["timeout"]));
    assert_eq!(
        asked(&s, &unanswered),
        pairs(&[
            ("team-lead@company.com", "escalated"),
            ("department-head@company.com", "timeout"),
        ])
    );

    // One decision event and one memory record per request.
    let decided = events(&s, "request_decided");
    assert_eq!(decided.len(), 4, "{decided:?}");
    let mem = memory(&s, bot);
    for (wf, status) in [
        (&small, "approved"),
        (&large, "rejected"),
        (&escalated, "rejected"),
        (&unanswered, "rejected"),
    ] {
        assert_eq!(mem[format!("request:{wf}")]["status"], status, "{mem}");
        assert_eq!(
            events_where(&s, "request_decided", "workflow", wf).len(),
            1,
            "{wf}"
        );
    }
    assert_eq!(
        mem[format!("request:{small}")]["requester"],
        "ana@company.com"
    );
}

#[test]
fn order_refund_refunds_in_parallel_after_approval_or_refuses() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = templates_server(&db, &bots);
    let bot = "order-refund";
    let small = s.start_workflow(
        bot,
        "start",
        json!({ "order_id": "A-40", "order_amount": 40 }),
    );
    let approved = s.start_workflow(
        bot,
        "start",
        json!({ "order_id": "A-150", "order_amount": 150 }),
    );
    let rejected = s.start_workflow(
        bot,
        "start",
        json!({ "order_id": "A-500", "order_amount": 500 }),
    );
    let invalid = s.start_workflow(
        bot,
        "start",
        json!({ "order_id": "A-0", "order_amount": 0 }),
    );
    let unanswered = s.start_workflow(
        bot,
        "start",
        json!({ "order_id": "A-300", "order_amount": 300, "review_timeout": 1 }),
    );

    let r = finished(&s, &small);
    assert_eq!(r["status"], "refunded", "{r}");
    assert_eq!(r["refund"]["refunded"], 40);
    assert_eq!(r["restock"]["restocked"], 1);
    assert_eq!(
        steps(&s, &small),
        [
            ("1".to_string(), "bot".to_string()),
            ("3".to_string(), "parallel".to_string()),
            ("4".to_string(), "task".to_string()),
        ]
    );

    let (a, token, who) = pending(&s, &approved);
    assert_eq!(who, "manager@company.com");
    decide(&s, &a, &token, "approve");
    let r = finished(&s, &approved);
    assert_eq!(r["status"], "refunded", "{r}");
    assert_eq!(r["refund"]["refunded"], 150);
    assert_eq!(r["approval"]["by"], "manager@company.com");
    assert_eq!(keys(&steps(&s, &approved)), ["1", "2", "3", "4"]);

    let (a, token, _) = pending(&s, &rejected);
    decide(&s, &a, &token, "reject");
    let r = finished(&s, &rejected);
    assert_eq!(r["status"], "refused", "{r}");
    assert_eq!(r["reason"], "approval rejected");
    assert_eq!(keys(&steps(&s, &rejected)), ["1", "2"]);

    let r = finished(&s, &invalid);
    assert_eq!(r["status"], "refused", "{r}");
    assert_eq!(r["reason"], "invalid order");

    // The manager's time runs out, then the director's; ON TIMEOUT: REJECT refuses it.
    let r = finished(&s, &unanswered);
    assert_eq!(r["status"], "refused", "{r}");
    assert_eq!(r["approval"]["by"], "timeout");
    assert_eq!(r["approval"]["comment"], "unanswered");
    assert_eq!(
        asked(&s, &unanswered),
        pairs(&[
            ("manager@company.com", "escalated"),
            ("director@company.com", "timeout"),
        ])
    );

    // Side effects: only the two refunds reached the refund and stock bots, once each.
    let refunds = memory(&s, "refund-processor");
    for (wf, done) in [
        (&small, true),
        (&approved, true),
        (&rejected, false),
        (&invalid, false),
        (&unanswered, false),
    ] {
        assert_eq!(
            refunds.get(format!("done:process refund:{wf}")).is_some(),
            done,
            "{wf}: {refunds}"
        );
    }
    assert_eq!(refunds["runs"], 2, "{refunds}");
    assert_eq!(memory(&s, "inventory-updater")["returned_items"], 2);
    let mem = memory(&s, bot);
    assert_eq!(mem["refund:A-40"]["amount"], 40, "{mem}");
    assert_eq!(mem["refund:A-150"]["amount"], 150, "{mem}");
    assert!(mem.get("refund:A-500").is_none(), "{mem}");
    let mut refunded: Vec<String> = events(&s, "order_refunded")
        .iter()
        .map(|e| e["payload"]["order"].as_str().unwrap().to_string())
        .collect();
    refunded.sort();
    assert_eq!(refunded, ["A-150", "A-40"]);
    let mut refused: Vec<(String, String)> = events(&s, "refund_refused")
        .iter()
        .map(|e| {
            (
                e["payload"]["order"].as_str().unwrap().to_string(),
                e["payload"]["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    refused.sort();
    assert_eq!(
        refused,
        [
            ("A-0".to_string(), "invalid order".to_string()),
            ("A-300".to_string(), "approval rejected".to_string()),
            ("A-500".to_string(), "approval rejected".to_string()),
        ]
    );
}

#[test]
fn incident_escalation_pages_levels_until_acknowledged_and_publishes_the_resolution() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = templates_server(&db, &bots);
    let bot = "incident-escalation";
    // Levels get 2 s each: the second incident is acknowledged only at the third level
    // (driven first, as it runs on the clock).
    let late = s.start_workflow(
        bot,
        "start",
        json!({ "title": "slow search", "severity": "low", "ack_timeout": 2 }),
    );
    let ignored = s.start_workflow(
        bot,
        "start",
        json!({ "title": "disk full", "ack_timeout": 1 }),
    );
    let quick = s.start_workflow(
        bot,
        "start",
        json!({ "title": "checkout down", "ack_timeout": 30 }),
    );

    // The third page and the wait for its acknowledgement commit together.
    eventually(20.0, "the third page of the second incident", || {
        let paged = events_where(&s, "incident_paged", "incident", &late);
        if paged.iter().any(|p| p["level"] == 3) {
            Ok(())
        } else {
            Err(format!("{paged:?}"))
        }
    });
    publish(
        &s,
        "incident_acknowledged",
        json!({ "incident": late, "by": "carol" }),
    );

    // The primary acknowledges the first incident; an acknowledgement of another incident
    // before it wakes nothing (WHERE).
    waiting_for_event(&s, &quick, json!(["incident_acknowledged"]));
    publish(
        &s,
        "incident_acknowledged",
        json!({ "incident": "another", "by": "eve" }),
    );
    publish(
        &s,
        "incident_acknowledged",
        json!({ "incident": quick, "by": "bob" }),
    );
    waiting_for_event(&s, &quick, json!(["incident_resolved"]));
    publish(
        &s,
        "incident_resolved",
        json!({ "incident": quick, "by": "bob", "summary": "rolled back" }),
    );
    let r = finished(&s, &quick);
    assert_eq!(
        (
            &r["status"],
            &r["level"],
            &r["acknowledged_by"],
            &r["summary"]
        ),
        (
            &json!("resolved"),
            &json!(1),
            &json!("bob"),
            &json!("rolled back")
        ),
        "{r}"
    );
    assert_eq!(
        keys(&steps(&s, &quick)),
        ["1", "page", "ack", "3", "4"],
        "one level paged"
    );

    waiting_for_event(&s, &late, json!(["incident_resolved"]));
    publish(
        &s,
        "incident_resolved",
        json!({ "incident": late, "by": "carol", "summary": "reindexed" }),
    );
    let r = finished(&s, &late);
    assert_eq!(r["status"], "resolved", "{r}");
    assert_eq!(r["level"], 3, "{r}");
    assert_eq!(r["acknowledged_by"], "carol");
    let paged: Vec<(i64, String)> = events_where(&s, "incident_paged", "incident", &late)
        .iter()
        .map(|p| {
            (
                p["level"].as_i64().unwrap(),
                p["responder"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        paged,
        [
            (1, "oncall-primary@company.com".to_string()),
            (2, "oncall-secondary@company.com".to_string()),
            (3, "incident-manager@company.com".to_string()),
        ]
    );
    assert_eq!(
        keys(&steps(&s, &late)),
        ["1", "page", "ack", "page#2", "ack#2", "page#3", "ack#3", "3", "4"]
    );
    let timeouts = events_where(&s, "timeout_occurred", "workflow_id", &late);
    assert_eq!(timeouts.len(), 2, "{timeouts:?}");

    // Nobody acknowledges the third.
    let r = finished(&s, &ignored);
    assert_eq!(r["status"], "unacknowledged", "{r}");
    assert_eq!(r["levels_paged"], 3);
    assert_eq!(
        events_where(&s, "incident_unacknowledged", "incident", &ignored).len(),
        1
    );

    // What the workflows published and kept.
    let mut raised: Vec<String> = events(&s, "incident_raised")
        .iter()
        .map(|e| e["payload"]["title"].as_str().unwrap().to_string())
        .collect();
    raised.sort();
    assert_eq!(raised, ["checkout down", "disk full", "slow search"]);
    let closed = events(&s, "incident_closed");
    assert_eq!(closed.len(), 2, "{closed:?}");
    let mem = memory(&s, bot);
    assert_eq!(
        mem[format!("incident:{quick}")]["resolved_by"],
        "bob",
        "{mem}"
    );
    assert_eq!(mem[format!("incident:{late}")]["level"], 3, "{mem}");
    assert_eq!(
        mem[format!("incident:{ignored}")]["status"],
        "unacknowledged"
    );
}

#[test]
fn employee_onboarding_shares_the_profile_and_sets_up_in_parallel() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = templates_server(&db, &bots);
    let bot = "employee-onboarding";
    let ana = s.start_workflow(
        bot,
        "start",
        json!({ "employee": "Ana Lima", "email": "ana.lima@company.com", "role": "engineer",
                "first_day_in": 1 }),
    );
    let sam = s.start_workflow(
        bot,
        "start",
        json!({ "employee": "Sam Reis", "email": "sam.reis@company.com", "role": "sales" }),
    );

    let (a, token, who) = pending(&s, &ana);
    assert_eq!(who, "manager@company.com");
    decide(&s, &a, &token, "approve");
    let (a, token, _) = pending(&s, &sam);
    decide(&s, &a, &token, "reject");

    let r = finished(&s, &ana);
    assert_eq!(r["status"], "onboarded", "{r}");
    assert_eq!(r["login"], "ana.lima");
    assert_eq!(
        r["accounts"],
        json!(["directory", "mail", "chat", "source code"])
    );
    assert_eq!(r["equipment"][0], "laptop (32 GB)");
    assert_eq!(
        r["courses"],
        json!(["security basics", "company tour", "codebase walkthrough"])
    );
    assert_eq!(r["check_in"], "scheduled");
    assert_eq!(
        steps(&s, &ana),
        [
            ("1".to_string(), "approval".to_string()),
            ("3".to_string(), "task".to_string()),
            ("4".to_string(), "parallel".to_string()),
            ("5".to_string(), "delay".to_string()),
            ("6".to_string(), "bot".to_string()),
        ]
    );

    let r = finished(&s, &sam);
    assert_eq!(r["status"], "cancelled", "{r}");
    assert_eq!(keys(&steps(&s, &sam)), ["1", "2"]);

    // The profile was shared with the IT desk, which pulled it into its own memory.
    let (_, shared) = s.get(&format!("/api/bots/{bot}/memory/shared"));
    let out: Vec<(&str, &str)> = shared["outgoing"]
        .as_array()
        .unwrap_or_else(|| panic!("{shared}"))
        .iter()
        .map(|x| {
            (
                x["key"].as_str().unwrap(),
                x["target_bot"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(out, [("new_hire:ana.lima@company.com", "it-desk")]);
    let desk = memory(&s, "it-desk");
    assert_eq!(
        desk["new_hire:ana.lima@company.com"]["role"], "engineer",
        "{desk}"
    );
    assert_eq!(
        desk["new_hire:ana.lima@company.com"]["approved_by"],
        "manager@company.com"
    );
    assert_eq!(desk["account:ana.lima"]["name"], "Ana Lima");
    assert_eq!(
        desk["runs"], 2,
        "two tasks of the IT desk, once each: {desk}"
    );
    assert!(desk.get("account:sam.reis").is_none());
    assert_eq!(memory(&s, "training")["enrolled"], 1);
    let mem = memory(&s, bot);
    assert_eq!(
        mem["employee:ana.lima@company.com"]["mentor"],
        "mentors@company.com"
    );
    assert!(mem.get("employee:sam.reis@company.com").is_none(), "{mem}");

    let onboarded = events(&s, "employee_onboarded");
    assert_eq!(onboarded.len(), 1);
    assert_eq!(onboarded[0]["payload"]["login"], "ana.lima");
    let cancelled = events(&s, "onboarding_cancelled");
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0]["payload"]["reason"], "approval rejected");
    let done: Vec<String> = events_where(&s, "task_done", "workflow", &ana)
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p["bot"].as_str().unwrap(),
                p["task"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(done.len(), 4, "{done:?}");
    assert!(events_where(&s, "task_done", "workflow", &sam).is_empty());
}

#[test]
fn content_moderation_decides_automatically_or_by_review_with_a_deadline() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = templates_server(&db, &bots);
    let bot = "content-moderation";
    let post = |content: &str, extra: Value| {
        let mut input = json!({ "content": content, "author": "sam" });
        if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
            i.extend(e.clone());
        }
        s.start_workflow(bot, "start", input)
    };
    let clean = post("Great article, thanks!", json!({}));
    let blocked = post("This is a scam, do not trust them", json!({}));
    let approved = post("Free tickets at http://example.com", json!({}));
    let rejected = post("Winner!!! Claim your offer", json!({}));
    let unreviewed = post("A free sample", json!({ "review_timeout": 1 }));

    let r = finished(&s, &clean);
    assert_eq!(
        (&r["decision"], &r["decided_by"], &r["verdict"]),
        (&json!("published"), &json!("classifier"), &json!("allow")),
        "{r}"
    );
    assert_eq!(keys(&steps(&s, &clean)), ["1", "3"]);
    let r = finished(&s, &blocked);
    assert_eq!(
        (&r["decision"], &r["decided_by"], &r["flags"]),
        (&json!("removed"), &json!("classifier"), &json!(["scam"])),
        "{r}"
    );

    let (a, token, who) = pending(&s, &approved);
    assert_eq!(who, "moderators@company.com");
    decide(&s, &a, &token, "approve");
    let r = finished(&s, &approved);
    assert_eq!(r["decision"], "published", "{r}");
    assert_eq!(r["decided_by"], "moderators@company.com");
    assert_eq!(r["flags"], json!(["http", "free"]));
    assert_eq!(keys(&steps(&s, &approved)), ["1", "2", "3"]);

    let (a, token, _) = pending(&s, &rejected);
    decide(&s, &a, &token, "reject");
    let r = finished(&s, &rejected);
    assert_eq!(r["decision"], "removed", "{r}");
    assert_eq!(r["decided_by"], "moderators@company.com");

    let r = finished(&s, &unreviewed);
    assert_eq!(r["decision"], "removed", "{r}");
    assert_eq!(r["decided_by"], "timeout");
    assert_eq!(r["review"]["comment"], "unreviewed");

    // The review's message names what the classifier flagged.
    let (_, list) = s.get(&format!("/api/approvals?workflow={approved}"));
    assert_eq!(
        list["approvals"][0]["message"], "Publish this post by sam? It mentions: http, free",
        "{list}"
    );
    assert_eq!(events(&s, "content_moderated").len(), 5);
    let mem = memory(&s, bot);
    for (wf, decision) in [
        (&clean, "published"),
        (&blocked, "removed"),
        (&approved, "published"),
        (&rejected, "removed"),
        (&unreviewed, "removed"),
    ] {
        assert_eq!(mem[format!("decision:{wf}")]["decision"], decision, "{mem}");
        assert_eq!(
            events_where(&s, "content_moderated", "workflow", wf)[0]["decision"],
            decision
        );
    }
    assert_eq!(memory(&s, "classifier")["runs"], 5);
}

#[test]
fn lead_qualification_routes_by_score_and_shares_hot_leads_with_sales() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = templates_server(&db, &bots);
    let bot = "lead-qualification";
    let hot = s.start_workflow(
        bot,
        "start",
        json!({ "lead_name": "Ana", "email": "ana@acme.example", "company": "Acme",
                "budget": 50000, "employees": 500, "source": "referral" }),
    );
    let warm = s.start_workflow(
        bot,
        "start",
        json!({ "lead_name": "Bo", "email": "bo@beta.example", "budget": 5000,
                "employees": 20, "source": "website", "follow_up_in": 1 }),
    );
    let cold = s.start_workflow(
        bot,
        "start",
        json!({ "lead_name": "Cy", "email": "cy@gmail.com", "budget": 0, "employees": 1 }),
    );

    let r = finished(&s, &hot);
    assert_eq!(
        (&r["route"], &r["score"], &r["grade"], &r["owner"]),
        (
            &json!("sales"),
            &json!(90),
            &json!("hot"),
            &json!("ana@company.com")
        ),
        "{r}"
    );
    assert_eq!(
        steps(&s, &hot),
        [
            ("1".to_string(), "bot".to_string()),
            ("2".to_string(), "task".to_string()),
            ("3".to_string(), "bot".to_string()),
            ("6".to_string(), "task".to_string()),
        ]
    );
    let r = finished(&s, &warm);
    assert_eq!(
        (&r["route"], &r["score"], &r["grade"]),
        (&json!("nurture"), &json!(45), &json!("warm")),
        "{r}"
    );
    assert_eq!(r["follow_up"]["check_in"], "scheduled");
    assert_eq!(keys(&steps(&s, &warm)), ["1", "4", "5", "6"]);
    let r = finished(&s, &cold);
    assert_eq!(
        (&r["route"], &r["score"], &r["grade"]),
        (&json!("disqualified"), &json!(0), &json!("cold")),
        "{r}"
    );
    assert_eq!(
        r["reasons"],
        json!(["personal mailbox"]),
        "the reasons say why: {r}"
    );
    assert_eq!(keys(&steps(&s, &cold)), ["1", "6"]);

    // Only the hot lead was shared with sales, which keeps it in its own memory.
    let (_, shared) = s.get(&format!("/api/bots/{bot}/memory/shared"));
    let out: Vec<(&str, &str)> = shared["outgoing"]
        .as_array()
        .unwrap_or_else(|| panic!("{shared}"))
        .iter()
        .map(|x| {
            (
                x["key"].as_str().unwrap(),
                x["target_bot"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(out, [("lead:ana@acme.example", "sales")]);
    let sales = memory(&s, "sales");
    assert_eq!(sales["lead:ana@acme.example"]["score"], 90, "{sales}");
    assert_eq!(
        sales["pipeline:ana@acme.example"]["owner"],
        "ana@company.com"
    );
    assert!(sales.get("lead:bo@beta.example").is_none(), "{sales}");
    let mem = memory(&s, bot);
    for (email, grade) in [
        ("ana@acme.example", "hot"),
        ("bo@beta.example", "warm"),
        ("cy@gmail.com", "cold"),
    ] {
        assert_eq!(mem[format!("lead:{email}")]["grade"], grade, "{mem}");
        assert_eq!(
            events_where(&s, "lead_routed", "email", email).len(),
            1,
            "{email}"
        );
    }
    assert_eq!(
        memory(&s, "follow-up")[format!("done:schedule check-in:{warm}")],
        true
    );
}

const ADMIN: &str = "admin-secret-for-template-tests";

#[test]
fn a_new_script_from_a_template_is_drawn_and_runs() {
    let db = TestDb::new();
    // Another bots folder than bottemplates/: the templates come with the binary.
    let bots = BotDir::new();
    bots.script("finance", "start", "TALK \"finance desk\"\n");
    let s = Server::start_with(
        &db.url,
        &bots.path,
        Options {
            admin_token: Some(ADMIN.into()),
            ..Options::default()
        },
    );
    let admin = Some(ADMIN);
    let call = |method: &str, path: &str, body: Option<Value>| {
        s.request(method, path, body.map(|b| b.to_string()), admin)
    };

    // Both routes are the admin's.
    let (st, v) = s.get("/api/templates");
    assert_eq!((st, &v["error"]), (401, &json!("unauthorized")), "{v}");
    let (st, v) = s.post(
        "/api/bots/finance/scripts",
        json!({ "script": "purchase", "template": "approval-chain" }),
    );
    assert_eq!(st, 401, "{v}");

    let (st, v) = call("GET", "/api/templates", None);
    assert_eq!(st, 200, "{v}");
    let names: Vec<&str> = v["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert!(t["title"].as_str().is_some_and(|x| !x.is_empty()), "{t}");
            assert!(
                t["description"].as_str().is_some_and(|x| !x.is_empty()),
                "{t}"
            );
            t["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        names,
        [
            "approval-chain",
            "order-refund",
            "incident-escalation",
            "employee-onboarding",
            "content-moderation",
            "lead-qualification"
        ]
    );

    let (st, v) = call(
        "POST",
        "/api/bots/finance/scripts",
        Some(json!({ "script": "purchase", "template": "approval-chain" })),
    );
    assert_eq!(st, 201, "{v}");
    assert_eq!(
        (&v["bot"], &v["script"]),
        (&json!("finance"), &json!("purchase"))
    );
    assert_eq!(v["diagnostics"], json!([]), "{v}");
    let file = bots.path.join("finance.gbai/finance.gbdialog/purchase.bas");
    let template = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("bottemplates/approval-chain.gbai/approval-chain.gbdialog/start.bas"),
    )
    .unwrap();
    // The template's text, its workflow named after the new script.
    let made = template.replace(
        "ORCHESTRATE WORKFLOW \"approval-chain\"",
        "ORCHESTRATE WORKFLOW \"purchase\"",
    );
    assert_ne!(made, template);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), made);
    assert_eq!(v["hash"], botserver::basic::content_hash(&made));

    // The new script is drawn at once, at the version created.
    let (st, g) = call("GET", "/api/bots/finance/scripts/purchase/graph", None);
    assert_eq!(st, 200, "{g}");
    assert_eq!(g["hash"], v["hash"]);
    let approvers: Vec<&str> = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "approval")
        .map(|n| n["detail"]["approver"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(approvers.len(), 2, "{g}");
    assert!(
        approvers[0].contains("team-lead@company.com"),
        "{approvers:?}"
    );

    // And it runs as a workflow of its new bot.
    let (st, w) = call(
        "POST",
        "/api/workflows",
        Some(json!({ "bot": "finance", "script": "purchase", "input": { "amount": 20 } })),
    );
    assert_eq!(st, 201, "{w}");
    let wf = w["id"].as_str().unwrap().to_string();
    let (a, token) = s.approval_of(&wf, admin);
    decide(&s, &a, &token, "approve");
    let (st, r) = call(
        "GET",
        &format!("/api/workflows/{wf}/result?timeout=30"),
        None,
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"]["status"], "approved", "{r}");
    let (_, mem) = call("GET", "/api/bots/finance/memory", None);
    assert_eq!(mem["memory"][format!("request:{wf}")]["status"], "approved");

    // A template that delegates to bots this folder lacks is created all the same, and
    // check's warnings say which.
    let (st, v) = call(
        "POST",
        "/api/bots/finance/scripts",
        Some(json!({ "script": "refunds", "template": "order-refund" })),
    );
    assert_eq!(st, 201, "{v}");
    let warnings: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("unknown bot 'order-checker'")),
        "{warnings:?}"
    );

    // Refusals, each JSON naming what is wrong; none writes anything.
    let before: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    let refused = |body: Value, bot: &str, status: u16, kind: &str, says: &str| {
        let (st, v) = call(
            "POST",
            &format!("/api/bots/{bot}/scripts"),
            Some(body.clone()),
        );
        assert_eq!((st, &v["error"]), (status, &json!(kind)), "{body}: {v}");
        let message = v["message"].as_str().unwrap_or("");
        assert!(message.contains(says), "{body}: {message}");
    };
    refused(
        json!({ "script": "purchase", "template": "order-refund" }),
        "finance",
        409,
        "conflict",
        "already has a script 'purchase'",
    );
    refused(
        json!({ "script": "start", "template": "approval-chain" }),
        "finance",
        409,
        "conflict",
        "'start'",
    );
    refused(
        json!({ "script": "x", "template": "approval-chain" }),
        "nobody",
        404,
        "not_found",
        "unknown bot 'nobody'",
    );
    refused(
        json!({ "script": "x", "template": "tax-return" }),
        "finance",
        404,
        "not_found",
        "no template 'tax-return'",
    );
    for bad in [
        "Purchase",
        "../evil",
        "",
        "with space",
        "under_score",
        "x.bas",
    ] {
        refused(
            json!({ "script": bad, "template": "approval-chain" }),
            "finance",
            400,
            "bad_request",
            "'script' must be",
        );
    }
    refused(
        json!({ "script": "x" }),
        "finance",
        400,
        "bad_request",
        "template",
    );
    refused(
        json!({ "script": "x", "template": "approval-chain", "source": "TALK 1" }),
        "finance",
        400,
        "bad_request",
        "source",
    );
    let after: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(before, after, "a refusal wrote something");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), made);
}
