//! Events against the real server and PostgreSQL (Redis off): an event published before a
//! WAIT FOR EVENT began never satisfies it and one published after always does (OR, WHERE
//! with the payload and script variables, TIMEOUT); a wait in a conversation survives a
//! SIGKILL; a wait on one instance is woken by a publish on another, the publisher running
//! it itself when it has free run slots, and woken through LISTEN/NOTIFY on the waiting
//! instance when the publisher is a front instance with none (BOTSERVER_MAX_RUNS=0); each
//! ON EVENT handler of two bots runs exactly once per event across two instances, one of
//! them killed midway; PUBLISH EVENT in a workflow happens once across a SIGKILL and the
//! replay after it; bad names and oversized payloads are refused with a clear 4xx.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{eventually, texts, BotDir, Options, Server};
use serde_json::{json, Value};

/// Few concurrent runs (and so few connections): the test cluster is shared by tests
/// running in parallel, each with its servers.
fn small() -> Options {
    Options {
        env: vec![("BOTSERVER_MAX_RUNS".into(), "4".into())],
        ..Options::default()
    }
}

fn start(s: &Server, bot: &str, input: Value) -> String {
    let (st, v) = s.post(
        "/api/workflows",
        json!({ "bot": bot, "script": "start", "input": input }),
    );
    assert_eq!(st, 201, "{v}");
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {v}"))
        .to_string()
}

fn result(s: &Server, id: &str) -> Value {
    s.get(&format!("/api/workflows/{id}/result?timeout=30")).1
}

fn publish(s: &Server, name: &str, payload: Value) -> i64 {
    let (st, v) = s.post("/api/events", json!({ "name": name, "payload": payload }));
    assert_eq!(st, 201, "publishing {name}: {v}");
    v["id"].as_i64().unwrap()
}

/// Polls the workflow until it is suspended in WAIT FOR EVENT.
fn waiting_for_event(s: &Server, id: &str) -> Value {
    eventually(20.0, &format!("workflow {id} waiting for an event"), || {
        let (_, d) = s.get(&format!("/api/workflows/{id}"));
        if d["status"] == "waiting" && d["waiting_for"]["kind"] == "event" {
            Ok(d)
        } else {
            Err(format!(
                "status {}, waiting_for {}, error {}",
                d["status"], d["waiting_for"], d["error"]
            ))
        }
    })
}

/// The cursor the workflow's first WAIT FOR EVENT recorded in its journal.
fn cursor(db: &TestDb, id: &str) -> i64 {
    db.count(&format!(
        "SELECT (value->>'cursor')::bigint AS n FROM journal \
         WHERE execution_id = '{id}' AND key = 'event#1!cursor'"
    ))
}

#[test]
fn only_an_event_published_after_the_wait_began_satisfies_it() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "waiter",
        "start",
        "TALK \"before\"\nWAIT FOR EVENT \"order.paid\"\nTALK \"after\"\nRETURN event\n",
    );
    let s = Server::start_with(&db.url, &bots.path, small());

    let early = publish(&s, "order.paid", json!({ "n": 0 }));
    let id = start(&s, "waiter", json!({}));
    let d = waiting_for_event(&s, &id);
    assert_eq!(d["waiting_for"]["names"], json!(["order.paid"]), "{d}");
    assert_eq!(d["output"], json!(["before"]), "{d}");
    // The early event is at or below the cursor: it was there before the wait began.
    let c = cursor(&db, &id);
    assert!(
        early <= c,
        "event {early} published before the wait, cursor {c}"
    );
    // Another name does not wake it.
    publish(&s, "order.shipped", json!({ "n": 9 }));
    let late = publish(&s, "order.paid", json!({ "n": 1 }));
    assert!(late > c);

    let r = result(&s, &id);
    assert_eq!(r["status"], "completed", "{r}");
    let ev = &r["result"];
    assert_eq!(ev["id"], late, "{ev}");
    assert_eq!(ev["name"], "order.paid");
    assert_eq!(ev["payload"], json!({ "n": 1 }));
    assert_eq!(ev["source"], Value::Null, "published through the API: {ev}");
    assert!(
        chrono::DateTime::parse_from_rfc3339(ev["at"].as_str().unwrap()).is_ok(),
        "{ev}"
    );
    let (_, d) = s.get(&format!("/api/workflows/{id}"));
    assert_eq!(d["output"], json!(["before", "after"]), "{d}");

    // The events are listed by name, above an id, with a limit.
    let (st, l) = s.get("/api/events?name=order.paid");
    assert_eq!(st, 200, "{l}");
    let ids: Vec<i64> = l["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![early, late]);
    let (_, l) = s.get(&format!(
        "/api/events?name=order.paid&after={early}&limit=5"
    ));
    assert_eq!(l["events"].as_array().unwrap().len(), 1, "{l}");
    assert_eq!(l["events"][0]["id"], late);
    assert_eq!(l["events"][0]["payload"], json!({ "n": 1 }));
    assert_eq!(l["events"][0]["source_bot"], Value::Null);
    let (_, l) = s.get("/api/events?limit=1");
    assert_eq!(l["events"].as_array().unwrap().len(), 1, "{l}");
    assert_eq!(l["events"][0]["id"], early);
}

#[test]
fn any_of_several_names_satisfies_the_wait_and_a_bot_is_named_as_source() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "either",
        "start",
        "WAIT FOR EVENT \"alpha\" OR \"be\" + \"ta\"\nRETURN event\n",
    );
    bots.script(
        "emitter",
        "start",
        "PUBLISH EVENT \"beta\" WITH { from: workflow_id, k: 1 + 1 }\nRETURN \"sent\"\n",
    );
    let s = Server::start_with(&db.url, &bots.path, small());

    // Both names published before: neither counts.
    publish(&s, "alpha", json!("old"));
    publish(&s, "beta", json!("old"));
    let a = start(&s, "either", json!({}));
    let b = start(&s, "either", json!({}));
    let d = waiting_for_event(&s, &a);
    assert_eq!(d["waiting_for"]["names"], json!(["alpha", "beta"]), "{d}");
    waiting_for_event(&s, &b);

    // A third name wakes neither; "beta" from a bot wakes both.
    publish(&s, "gamma", json!("no"));
    let sender = start(&s, "emitter", json!({}));
    assert_eq!(result(&s, &sender)["result"], "sent");
    for id in [&a, &b] {
        let r = result(&s, id);
        assert_eq!(r["status"], "completed", "{r}");
        assert_eq!(r["result"]["name"], "beta", "{r}");
        assert_eq!(r["result"]["source"], "emitter", "{r}");
        assert_eq!(
            r["result"]["payload"],
            json!({ "from": sender, "k": 2 }),
            "{r}"
        );
    }
    let (_, l) = s.get("/api/events?name=beta&limit=10");
    let last = &l["events"].as_array().unwrap()[1];
    assert_eq!(last["source_bot"], "emitter", "{l}");
    assert_eq!(last["source_execution"], sender.as_str(), "{l}");

    // "alpha" satisfies a new wait as well.
    let c = start(&s, "either", json!({}));
    waiting_for_event(&s, &c);
    let alpha = publish(&s, "alpha", json!("new"));
    let r = result(&s, &c);
    assert_eq!(
        (&r["result"]["name"], &r["result"]["id"]),
        (&json!("alpha"), &json!(alpha)),
        "{r}"
    );
}

#[test]
fn where_sees_the_payload_and_the_script_variables() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "payments",
        "start",
        "want = order\nneeded = minimum * 2\n\
         WAIT FOR EVENT \"paid\" WHERE event.payload.order = want AND event.payload.amount >= needed\n\
         RETURN { order: event.payload.order, amount: event.payload.amount, id: event.id }\n",
    );
    let s = Server::start_with(&db.url, &bots.path, small());
    let a7 = start(&s, "payments", json!({ "order": "A7", "minimum": 10 }));
    let b1 = start(&s, "payments", json!({ "order": "B1", "minimum": 1 }));
    waiting_for_event(&s, &a7);
    waiting_for_event(&s, &b1);

    // Neither matches A7 (other order; amount under 20): it stays waiting, and the
    // first one is B1's.
    let first = publish(&s, "paid", json!({ "order": "B1", "amount": 100 }));
    publish(&s, "paid", json!({ "order": "A7", "amount": 19 }));
    publish(&s, "paid", json!({ "amount": 500 }));
    let r = result(&s, &b1);
    assert_eq!(
        r["result"],
        json!({ "order": "B1", "amount": 100, "id": first }),
        "{r}"
    );
    let d = waiting_for_event(&s, &a7);
    assert_eq!(d["variables"]["want"], "A7", "{d}");

    let good = publish(&s, "paid", json!({ "order": "A7", "amount": 20 }));
    publish(&s, "paid", json!({ "order": "A7", "amount": 30 }));
    let r = result(&s, &a7);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(
        r["result"],
        json!({ "order": "A7", "amount": 20, "id": good }),
        "{r}"
    );
}

#[test]
fn timeout_gives_null_publishes_timeout_occurred_and_escalates() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "patient",
        "start",
        "STEP 1: WAIT FOR EVENT \"never\" OR \"nor-this\" TIMEOUT 1 ON TIMEOUT: ESCALATE TO \"boss@example.com\"\n\
         RETURN { timed_out: ISNULL(event), event: event }\n",
    );
    let s = Server::start_with(&db.url, &bots.path, small());
    let id = start(&s, "patient", json!({}));
    let r = result(&s, &id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], json!({ "timed_out": true, "event": null }));

    let (_, l) = s.get("/api/events?name=timeout_occurred");
    let evs = l["events"].as_array().unwrap();
    assert_eq!(evs.len(), 1, "{l}");
    assert_eq!(evs[0]["payload"]["workflow_id"], id.as_str(), "{l}");
    assert_eq!(evs[0]["payload"]["step"], "1", "{l}");
    assert_eq!(
        evs[0]["payload"]["waiting_for"],
        json!(["never", "nor-this"]),
        "{l}"
    );
    assert_eq!(evs[0]["source_bot"], "patient", "{l}");

    // The escalation is an approval-style request to the named person.
    let (_, a) = s.get(&format!("/api/approvals?workflow={id}"));
    let approvals = a["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 1, "{a}");
    assert_eq!(approvals[0]["approver"], "boss@example.com", "{a}");
    let (_, l) = s.get("/api/events?name=approval_requested");
    assert_eq!(l["events"].as_array().unwrap().len(), 1, "{l}");
    assert_eq!(
        l["events"][0]["payload"]["approver"], "boss@example.com",
        "{l}"
    );

    // An event of that name after the timeout changes nothing.
    publish(&s, "never", json!(1));
    let (_, d) = s.get(&format!("/api/workflows/{id}"));
    assert_eq!(d["result"], json!({ "timed_out": true, "event": null }));
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_events WHERE name = 'timeout_occurred'"),
        1
    );
}

#[test]
fn a_wait_in_a_conversation_survives_a_kill() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "concierge",
        "start",
        "TALK \"waiting for your parcel\"\n\
         me = \"ann\"\n\
         WAIT FOR EVENT \"parcel\" WHERE event.payload.to = me\n\
         TALK \"parcel \" + event.payload.code + \" arrived\"\n\
         HEAR answer\n\
         TALK \"bye \" + answer\n",
    );
    let s = Server::start_with(&db.url, &bots.path, small());
    let (conv, r) = s.converse("concierge");
    assert_eq!(texts(&r), vec!["waiting for your parcel"], "{r}");
    assert_eq!(
        r["waiting"], false,
        "waits for an event, not a message: {r}"
    );
    publish(&s, "parcel", json!({ "to": "bob", "code": "X1" }));
    s.kill();

    let s = Server::start_with(&db.url, &bots.path, small());
    // The non-matching event woke it; that run may have been cut short by the kill.
    // Either way it ends up waiting for the event again.
    eventually(30.0, "the conversation waiting for its event again", || {
        let (_, c) = s.get(&format!("/api/conversations/{conv}"));
        if c["status"] == "waiting" && c["waiting_for"]["kind"] == "event" {
            Ok(())
        } else {
            Err(c.to_string())
        }
    });
    publish(&s, "parcel", json!({ "to": "ann", "code": "P9" }));
    let c = eventually(20.0, "the dialog goes on after the event", || {
        let (_, c) = s.get(&format!("/api/conversations/{conv}"));
        if c["waiting"] == true {
            Ok(c)
        } else {
            Err(c.to_string())
        }
    });
    let said: Vec<&str> = c["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "bot")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        said,
        vec!["waiting for your parcel", "parcel P9 arrived"],
        "{c}"
    );
    let r = s.say(&conv, "thanks");
    assert_eq!(texts(&r), vec!["bye thanks"], "{r}");
    assert_eq!(r["status"], "completed", "{r}");
}

#[test]
fn a_wait_on_one_instance_is_woken_by_a_publish_on_the_other() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "pinger",
        "start",
        "WAIT FOR EVENT \"ping-\" + n\nRETURN { n: n, id: event.id }\n",
    );
    let a = Server::start_with(
        &db.url,
        &bots.path,
        Options {
            instance: Some("instance-a".into()),
            ..small()
        },
    );
    let b = Server::start_with(
        &db.url,
        &bots.path,
        Options {
            instance: Some("instance-b".into()),
            ..small()
        },
    );
    let servers = [&a, &b];
    for round in 0..20 {
        let (here, there) = (servers[round % 2], servers[(round + 1) % 2]);
        // POST /api/workflows makes the first run (up to the WAIT) in the request on
        // `here`, which has free slots; once the workflow is seen waiting, that run has
        // been counted, so the counts read now leave it out.
        let id = start(here, "pinger", json!({ "n": round }));
        waiting_for_event(there, &id);
        let (here_before, there_before) = (here.runs_total(), there.runs_total());
        let ev = publish(there, &format!("ping-{round}"), json!(null));
        let r = result(here, &id);
        assert_eq!(r["status"], "completed", "{r}");
        assert_eq!(r["result"], json!({ "n": round, "id": ev }), "{r}");
        // The publisher had free run slots: it claimed the woken workflow in its publish
        // and ran it itself; the instance where the workflow began ran nothing more.
        let (here_after, there_after) = (here.runs_total(), there.runs_total());
        assert_eq!(
            here_after, here_before,
            "round {round}: the waiting instance ran something after the publish"
        );
        assert!(
            there_after > there_before,
            "round {round}: the publisher did not run the woken workflow \
             ({there_before} runs before, {there_after} after)"
        );
    }
}

#[test]
fn a_front_instance_leaves_the_woken_workflow_to_the_waiting_one() {
    const N: usize = 5;
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "pinger",
        "start",
        "WAIT FOR EVENT \"ping-\" + n\nRETURN { n: n, id: event.id }\n",
    );
    let a = Server::start_with(
        &db.url,
        &bots.path,
        Options {
            instance: Some("worker-a".into()),
            ..small()
        },
    );
    // No run slots: B answers the API but claims nothing its publishes wake. No Redis,
    // so A can only learn of the woken workflows from PostgreSQL.
    let b = Server::start_with(
        &db.url,
        &bots.path,
        Options {
            instance: Some("front-b".into()),
            env: vec![("BOTSERVER_MAX_RUNS".into(), "0".into())],
            ..Options::default()
        },
    );
    assert_eq!(b.runs_total(), 0);

    let ids: Vec<String> = (0..N)
        .map(|n| start(&a, "pinger", json!({ "n": n })))
        .collect();
    for id in &ids {
        waiting_for_event(&b, id);
    }
    let a_before = a.runs_total();
    let events: Vec<i64> = (0..N)
        .map(|n| publish(&b, &format!("ping-{n}"), json!(null)))
        .collect();
    for (n, (id, ev)) in ids.iter().zip(&events).enumerate() {
        // Asked of the front instance: it serves the API, whoever runs the workflow.
        let r = result(&b, id);
        assert_eq!(r["status"], "completed", "workflow {n}: {r}");
        assert_eq!(
            r["result"],
            json!({ "n": n, "id": ev }),
            "workflow {n}: {r}"
        );
    }
    assert_eq!(b.runs_total(), 0, "the front instance ran something");
    let a_after = a.runs_total();
    assert!(
        a_after >= a_before + N as u64,
        "A ran {} runs for {N} woken workflows",
        a_after - a_before
    );
    // Nothing is left owned by the front instance.
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE owner = 'front-b'"),
        0
    );
}

/// A wait for one name without WHERE gets its event in its journal from the publish
/// that ends it, in the publish's transaction: with the waiting instance killed (SIGKILL)
/// and the publisher a front instance that runs nothing, the event is in the journal
/// before any run; the restarted instance runs the workflow on with exactly that event.
/// A wait with WHERE is not delivered and finds its event by its cursor as before.
#[test]
fn an_event_delivered_into_the_journal_at_publish_survives_a_kill_before_the_run() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "direct",
        "start",
        "WAIT FOR EVENT \"d-\" + n\nRETURN { n: n, id: event.id, p: event.payload }\n",
    );
    bots.script(
        "filtered",
        "start",
        "WAIT FOR EVENT \"f-\" + n WHERE event.payload.ok\nRETURN { n: n, id: event.id }\n",
    );
    let worker = || Options {
        instance: Some("worker-a".into()),
        ..small()
    };
    let a = Server::start_with(&db.url, &bots.path, worker());
    let b = Server::start_with(
        &db.url,
        &bots.path,
        Options {
            instance: Some("front-b".into()),
            env: vec![("BOTSERVER_MAX_RUNS".into(), "0".into())],
            ..Options::default()
        },
    );
    let direct = start(&a, "direct", json!({ "n": 1 }));
    let filtered = start(&a, "filtered", json!({ "n": 1 }));
    waiting_for_event(&b, &direct);
    waiting_for_event(&b, &filtered);
    a.kill();

    let ev = publish(&b, "d-1", json!({ "k": 7 }));
    let skipped = publish(&b, "f-1", json!({ "ok": false }));
    let matched = publish(&b, "f-1", json!({ "ok": true }));
    // Delivered: the entry is there, the workflow runnable and owned by nobody.
    assert_eq!(
        db.count(&format!(
            "SELECT (value->>'id')::bigint AS n FROM journal WHERE execution_id = '{direct}' AND key = 'event#1'"
        )),
        ev
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM workflow_executions WHERE id = '{direct}' AND status = 'running' AND owner IS NULL"
        )),
        1
    );
    // Not delivered (WHERE): no entry; the first event woke it to look.
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM journal WHERE execution_id = '{filtered}' AND key = 'event#1'"
        )),
        0
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM event_waits"),
        0,
        "both waits were ended by the publishes"
    );

    let a = Server::start_with(&db.url, &bots.path, worker());
    let r = result(&a, &direct);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(
        r["result"],
        json!({ "n": 1, "id": ev, "p": { "k": 7 } }),
        "{r}"
    );
    let r = result(&a, &filtered);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], json!({ "n": 1, "id": matched }), "{r}");
    assert!(skipped < matched);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM journal WHERE execution_id = '{direct}' AND key = 'event#1'"
        )),
        1,
        "one entry: the run kept the delivered one"
    );
    drop(b);
}

/// An ON EVENT handler that counts its runs per event in bot memory and announces each
/// run with a `handled` event naming its bot; the loop keeps runs in flight a little.
fn handler(bot: &str) -> String {
    format!(
        "ON EVENT \"order.created\" DO\n\
         \x20 busy = 0\n\
         \x20 FOR i = 1 TO 2000\n\
         \x20   busy = busy + i\n\
         \x20 NEXT\n\
         \x20 runs = GET BOT MEMORY(\"runs:\" + event.payload.n)\n\
         \x20 IF ISNULL(runs) THEN\n\
         \x20   runs = 0\n\
         \x20 END IF\n\
         \x20 SET BOT MEMORY \"runs:\" + event.payload.n, runs + 1\n\
         \x20 PUBLISH EVENT \"handled\" WITH {{ bot: \"{bot}\", n: event.payload.n }}\n\
         END ON\n"
    )
}

#[test]
fn each_handler_of_two_bots_runs_once_per_event_on_two_instances_one_killed() {
    const N: i64 = 200;
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("audit", "handlers", &handler("audit"));
    bots.script("mailer", "events", &handler("mailer"));
    bots.script("mailer", "start", "TALK \"hi\"\n");
    let mut opts = small();
    opts.env.push(("BOTSERVER_LEASE_SECS".into(), "2".into()));
    let a = Server::start_with(&db.url, &bots.path, opts.clone());
    let b = Server::start_with(&db.url, &bots.path, opts);

    // The first half through both instances from four threads; then A is killed with
    // handler runs of those events in flight; the second half through B.
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (a, b) = (&a, &b);
            scope.spawn(move || {
                for n in (t..N / 2).step_by(4) {
                    let s = if n % 2 == 0 { a } else { b };
                    publish(s, "order.created", json!({ "n": n }));
                }
            });
        }
    });
    let unfinished = db.count(
        "SELECT count(*) AS n FROM workflow_executions WHERE kind = 'handler' AND status <> 'completed'",
    );
    a.kill();
    std::thread::scope(|scope| {
        for t in 0..2 {
            let b = &b;
            scope.spawn(move || {
                for n in (N / 2 + t..N).step_by(2) {
                    publish(b, "order.created", json!({ "n": n }));
                }
            });
        }
    });

    eventually(60.0, "every handler run completed", || {
        let done = db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE kind = 'handler' AND status = 'completed'",
        );
        let failed = db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE kind = 'handler' AND status = 'failed'",
        );
        assert_eq!(failed, 0, "handlers failed; log of B:\n{}", b.log_text());
        if done == 2 * N {
            Ok(())
        } else {
            Err(format!(
                "{done} of {} completed ({unfinished} were unfinished when A was killed)",
                2 * N
            ))
        }
    });
    eprintln!("{unfinished} handler runs were unfinished when A was killed");
    // Exactly one `handled` event per (bot, n), and every bot's counter is 1.
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_events WHERE name = 'handled'"),
        2 * N
    );
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM (SELECT DISTINCT payload->>'bot', payload->>'n' \
             FROM workflow_events WHERE name = 'handled') t"
        ),
        2 * N
    );
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM workflow_events WHERE name = 'handled' \
             AND payload->>'bot' IS DISTINCT FROM source_bot"
        ),
        0,
        "each bot's handler names itself"
    );
    for bot in ["audit", "mailer"] {
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) AS n FROM bot_memories WHERE bot = '{bot}' \
                 AND key LIKE 'runs:%' AND value = '1'::jsonb"
            )),
            N,
            "{bot}: one run per event"
        );
    }
    assert_eq!(
        db.count("SELECT count(*) AS n FROM event_deliveries"),
        2 * N
    );
}

#[test]
fn publish_in_a_workflow_happens_once_across_a_kill_and_the_replay() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "announcer",
        "start",
        "STEP 1: PUBLISH EVENT \"announced\" WITH { w: workflow_id }\n\
         STEP 2: WAIT 2\n\
         PUBLISH EVENT \"finished\" WITH { w: workflow_id }\n\
         RETURN \"done\"\n",
    );
    let s = Server::start_with(&db.url, &bots.path, small());
    let ids: Vec<String> = (0..5).map(|_| start(&s, "announcer", json!({}))).collect();
    for id in &ids {
        eventually(20.0, "workflow waiting in WAIT 2", || {
            let (_, d) = s.get(&format!("/api/workflows/{id}"));
            if d["status"] == "waiting" && d["waiting_for"]["kind"] == "timer" {
                Ok(())
            } else {
                Err(d.to_string())
            }
        });
    }
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_events WHERE name = 'announced'"),
        5
    );
    s.kill();

    let s = Server::start_with(&db.url, &bots.path, small());
    for id in &ids {
        let r = result(&s, id);
        assert_eq!(r["status"], "completed", "{r}");
        for name in ["announced", "finished"] {
            assert_eq!(
                db.count(&format!(
                    "SELECT count(*) AS n FROM workflow_events WHERE name = '{name}' \
                     AND payload->>'w' = '{id}' AND source_execution = '{id}'"
                )),
                1,
                "{name} of {id}"
            );
        }
        // It was replayed: more than one run.
        assert!(
            db.count(&format!(
                "SELECT runs::bigint AS n FROM workflow_executions WHERE id = '{id}'"
            )) >= 2
        );
    }
}

#[test]
fn bad_names_and_oversized_payloads_are_refused() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("any", "start", "TALK \"hi\"\n");
    let s = Server::start_with(&db.url, &bots.path, small());

    let long = "a".repeat(129);
    for name in ["", long.as_str(), "has spaces", "slash/name", "semi;colon"] {
        let (st, v) = s.post("/api/events", json!({ "name": name, "payload": 1 }));
        assert_eq!(st, 400, "{name:?}: {v}");
        assert_eq!(v["error"], "bad_request", "{v}");
        let msg = v["message"].as_str().unwrap();
        assert!(msg.contains("invalid event name"), "{msg}");
        assert!(msg.contains("1-128"), "{msg}");
    }
    // The longest allowed name and every allowed character are fine.
    publish(&s, &"b".repeat(128), json!(null));
    publish(&s, "Order_paid-v2.final:éñ9", json!(null));
    // A missing name or an unknown field names the problem.
    let (st, v) = s.post("/api/events", json!({ "payload": 1 }));
    assert_eq!(st, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("name"), "{v}");
    let (st, v) = s.post("/api/events", json!({ "name": "x", "paylod": 1 }));
    assert_eq!(st, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("paylod"), "{v}");

    // Payload limit 256 KiB: just under is stored, just over is 413, far over too.
    let under = "x".repeat(256 * 1024 - 2);
    publish(&s, "big", json!(under));
    let over = "x".repeat(256 * 1024);
    let (st, v) = s.post("/api/events", json!({ "name": "big", "payload": over }));
    assert_eq!(st, 413, "{v}");
    assert_eq!(v["error"], "too_large", "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("payload") && msg.contains("262144"), "{msg}");
    let huge = "x".repeat(900 << 10);
    let (st, v) = s.post("/api/events", json!({ "name": "big", "payload": huge }));
    assert_eq!(st, 413, "{v}");
    assert_eq!(v["error"], "too_large", "{v}");
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_events WHERE name = 'big'"),
        1
    );
    assert_eq!(db.count("SELECT count(*) AS n FROM workflow_events"), 3);
}

/// A run woken with its event already in its journal (one name, no WHERE: delivered by
/// the publisher) is written by the group commit although its script uses events: it
/// replays its WAIT FOR EVENT from the journal and needs no transaction of its own. A
/// run that uses the database after the wait (SET BOT MEMORY, a second WAIT FOR EVENT)
/// is given up at that keyword and done again in a transaction of its own, with the
/// same result. What the group commit acknowledged survives a SIGKILL.
#[test]
fn a_woken_run_that_replays_its_wait_shares_the_group_commit_and_one_that_needs_the_database_is_given_up(
) {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "plain",
        "start",
        "WAIT FOR EVENT \"p-\" + n\nRETURN { n: n, p: event.payload }\n",
    );
    bots.script(
        "writer",
        "start",
        "WAIT FOR EVENT \"w-\" + n\nSET BOT MEMORY \"seen\", event.payload.v\nRETURN GET BOT MEMORY \"seen\"\n",
    );
    bots.script(
        "twice",
        "start",
        "WAIT FOR EVENT \"a-\" + n\na = event.payload.v\nWAIT FOR EVENT \"b-\" + n\nRETURN a * 10 + event.payload.v\n",
    );
    let s = Server::start_with(&db.url, &bots.path, small());
    let plain = start(&s, "plain", json!({ "n": 1 }));
    let writer = start(&s, "writer", json!({ "n": 1 }));
    let twice = start(&s, "twice", json!({ "n": 1 }));
    for id in [&plain, &writer, &twice] {
        waiting_for_event(&s, id);
    }
    let counters = |s: &Server| {
        (
            s.metric("botserver_runs_group_committed_total"),
            s.metric("botserver_runs_optimistic_given_up_total"),
        )
    };
    let settled = |s: &Server, want: (u64, u64)| {
        eventually(10.0, "the run counters", || {
            let got = counters(s);
            if got == want {
                Ok(())
            } else {
                Err(format!(
                    "(group committed, given up) = {got:?}, want {want:?}"
                ))
            }
        })
    };
    let (grouped, given_up) = counters(&s);

    publish(&s, "p-1", json!({ "k": 1 }));
    let r = result(&s, &plain);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], json!({ "n": 1, "p": { "k": 1 } }), "{r}");
    settled(&s, (grouped + 1, given_up));

    publish(&s, "w-1", json!({ "v": 5 }));
    let r = result(&s, &writer);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], json!(5), "{r}");
    settled(&s, (grouped + 1, given_up + 1));
    assert_eq!(
        db.count("SELECT (value)::text::bigint AS n FROM bot_memories WHERE bot = 'writer' AND key = 'seen'"),
        5
    );

    // The first wait is replayed, the second needs the database: given up, then the
    // transactional run registers the second wait.
    publish(&s, "a-1", json!({ "v": 2 }));
    eventually(10.0, "the second wait registered", || {
        let d = waiting_for_event(&s, &twice);
        let n = db.count(&format!(
            "SELECT count(*) AS n FROM event_waits WHERE execution_id = '{twice}' AND names = ARRAY['b-1']"
        ));
        if n == 1 {
            Ok(())
        } else {
            Err(format!("no wait for b-1 yet: {d}"))
        }
    });
    settled(&s, (grouped + 1, given_up + 2));
    publish(&s, "b-1", json!({ "v": 3 }));
    let r = result(&s, &twice);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], json!(23), "{r}");
    settled(&s, (grouped + 2, given_up + 2));
    assert_eq!(db.count("SELECT count(*) AS n FROM event_waits"), 0);

    // Acknowledged means durable: killed now, the restarted instance shows the same ends.
    s.kill();
    let s = Server::start_with(&db.url, &bots.path, small());
    for (id, want) in [
        (&plain, json!({ "n": 1, "p": { "k": 1 } })),
        (&writer, json!(5)),
        (&twice, json!(23)),
    ] {
        let r = result(&s, id);
        assert_eq!(r["status"], "completed", "{r}");
        assert_eq!(r["result"], want, "{r}");
    }
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM journal WHERE execution_id = '{plain}' AND key = 'event#1'"
        )),
        1
    );
}

#[test]
fn publishes_in_flight_together_are_written_together_and_each_as_if_alone() {
    // Sixteen publishers at once: the committer writes what arrives meanwhile in one
    // transaction. Each waiter still gets exactly its event, a wait on two names the
    // first of them, each handler runs once per event, and every event is stored once.
    const N: i64 = 120;
    const HANDLED: i64 = 20;
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "storm",
        "start",
        "WAIT FOR EVENT \"storm-\" + n\nRETURN { n: n, got: event.payload.n, id: event.id }\n",
    );
    bots.script(
        "either",
        "start",
        "WAIT FOR EVENT \"storm-a\" OR \"storm-b\"\nRETURN event.id\n",
    );
    bots.script(
        "tally",
        "handlers",
        "ON EVENT \"storm-h\" DO\n  SET BOT MEMORY \"h:\" + event.payload.k, event.id\nEND ON\n",
    );
    let s = Server::start_with(&db.url, &bots.path, small());
    let waiters: Vec<String> = (0..N)
        .map(|n| start(&s, "storm", json!({ "n": n })))
        .collect();
    let either: Vec<String> = (0..3).map(|_| start(&s, "either", json!({}))).collect();
    eventually(30.0, "every waiter waiting", || {
        let n = db.count("SELECT count(*) AS n FROM event_waits");
        if n == N + 3 {
            Ok(())
        } else {
            Err(format!("{n} waits"))
        }
    });
    let before = s.metric("botserver_events_published_batched_total");

    let mut names: Vec<(String, Value)> = (0..N)
        .map(|n| (format!("storm-{n}"), json!({ "n": n })))
        .collect();
    names.push(("storm-a".into(), json!(null)));
    names.push(("storm-b".into(), json!(null)));
    names.extend((0..HANDLED).map(|k| ("storm-h".to_string(), json!({ "k": k }))));
    let ids: Vec<(String, Value, i64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|t| {
                let (s, names) = (&s, &names);
                scope.spawn(move || {
                    names
                        .iter()
                        .skip(t)
                        .step_by(16)
                        .map(|(name, payload)| {
                            (
                                name.clone(),
                                payload.clone(),
                                publish(s, name, payload.clone()),
                            )
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
    let id_of = |name: &str| -> i64 {
        ids.iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, id)| *id)
            .unwrap_or_else(|| panic!("{name} not published"))
    };
    let mut all: Vec<i64> = ids.iter().map(|(_, _, id)| *id).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), names.len(), "event ids are not one per publish");
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_events WHERE name LIKE 'storm-%'"),
        names.len() as i64
    );

    for (n, id) in waiters.iter().enumerate() {
        let r = result(&s, id);
        assert_eq!(r["status"], "completed", "waiter {n}: {r}");
        let want = json!({ "n": n, "got": n, "id": id_of(&format!("storm-{n}")) });
        assert_eq!(r["result"], want, "waiter {n}");
    }
    let first = id_of("storm-a").min(id_of("storm-b"));
    for id in &either {
        let r = result(&s, id);
        assert_eq!(r["status"], "completed", "{r}");
        assert_eq!(
            r["result"],
            json!(first),
            "a wait on two names gets the first: {r}"
        );
    }
    eventually(30.0, "every handler run", || {
        let done = db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE kind = 'handler' AND status = 'completed'",
        );
        if done == HANDLED {
            Ok(())
        } else {
            Err(format!("{done} handler runs completed"))
        }
    });
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE kind = 'handler'"),
        HANDLED,
        "one handler execution per event"
    );
    for (name, payload, id) in ids.iter().filter(|(n, _, _)| n == "storm-h") {
        let (st, v) = s.get(&format!("/api/bots/tally/memory/h:{}", payload["k"]));
        assert_eq!(st, 200, "{name} {payload}: {v}");
        assert_eq!(v["value"], json!(id), "{name} {payload}: {v}");
    }
    let batched = s.metric("botserver_events_published_batched_total") - before;
    assert!(
        batched >= 2,
        "no two of {} concurrent publishes were written together",
        names.len()
    );
}
