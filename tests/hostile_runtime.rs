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

fn publish(s: &Server, name: &str) {
    let (st, v) = s.post("/api/events", json!({ "name": name, "payload": {} }));
    assert_eq!(st, 201, "{v}");
}

/// An ON EVENT handler that publishes its own event twice is a storm; the chain of
/// handlers stops at its limit: 1 + 2 + 4 + 8 + 16 events with a limit of 4, the last
/// handlers failing with an error naming the limit, and nothing more afterwards.
#[test]
fn an_event_storm_stops_at_the_chain_limit() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "storm",
        "start",
        "ON EVENT \"x\" DO\n  PUBLISH EVENT \"x\" WITH { a: 1 }\n  PUBLISH EVENT \"x\" WITH { a: 2 }\nEND ON\n",
    );
    let s = Server::start_with(
        &db.url,
        &bots.path,
        env(&[("BOTSERVER_MAX_EVENT_CHAIN", "4")]),
    );
    publish(&s, "x");
    let settled = |_: &str| {
        eventually(30.0, "the storm to settle", || {
            let open = db.count(
                "SELECT count(*) AS n FROM workflow_executions WHERE status NOT IN ('completed', 'failed')",
            );
            let events = db.count("SELECT count(*) AS n FROM workflow_events WHERE name = 'x'");
            if open == 0 && events == 31 {
                Ok(())
            } else {
                Err(format!("{open} open, {events} events"))
            }
        })
    };
    settled("");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_events WHERE name = 'x'"),
        31
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE status = 'failed' AND error LIKE '%BOTSERVER_MAX_EVENT_CHAIN%'"),
        16
    );
}

/// A paused bot runs nothing: its handlers wait, its conversations answer 409, its new
/// workflows are stored; resumed, what waited runs.
#[test]
fn a_paused_bot_runs_nothing_until_resumed() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "calm",
        "start",
        "TALK \"hi\"\nON EVENT \"poke\" DO\n  SET BOT MEMORY \"poked\", TRUE\nEND ON\n",
    )
    .script("calm", "job", "RETURN 7\n");
    let s = Server::start(&db.url, &bots.path);
    let (st, v) = s.post("/api/bots/calm/pause", json!({}));
    assert_eq!((st, v["paused"].as_bool()), (200, Some(true)), "{v}");
    publish(&s, "poke");
    let (st, v) = s.post("/api/bots/calm/conversations", json!({}));
    assert_eq!(st, 409, "{v}");
    assert!(v["message"].as_str().unwrap().contains("is paused"), "{v}");
    let (st, v) = s.post(
        "/api/workflows",
        json!({ "bot": "calm", "script": "job", "input": {} }),
    );
    assert!(st == 201 || st == 202, "{st} {v}");
    let job = v["id"].as_str().unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE status = 'completed'"),
        0,
        "a paused bot ran something"
    );
    let (st, _) = s.get("/api/bots/calm/memory/poked");
    assert_eq!(st, 404);
    let (st, v) = s.post("/api/bots/calm/resume", json!({}));
    assert_eq!((st, v["changed"].as_bool()), (200, Some(true)), "{v}");
    assert_eq!(s.workflow_result(&job)["result"], 7);
    eventually(10.0, "the handler to run", || {
        let (st, v) = s.get("/api/bots/calm/memory/poked");
        if st == 200 {
            Ok(())
        } else {
            Err(v.to_string())
        }
    });
}

/// A timer that comes due while two thousand handler runs are runnable is not left
/// behind them: claims give due timers their share of each batch.
#[test]
fn a_due_timer_is_not_starved_by_a_flood_of_runnable_work() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "flood",
        "start",
        "ON EVENT \"f\" DO\n  FOR i = 1 TO 20000\n  NEXT\nEND ON\n",
    )
    .script(
        "gen",
        "burst",
        "FOR i = 1 TO 1000\n  PUBLISH EVENT \"f\" WITH { i: i }\nNEXT\n",
    )
    .script("t", "tick", "WAIT 1\nRETURN 1\n");
    let s = Server::start(&db.url, &bots.path);
    // The flood is stored while its bot is paused, then let go at once.
    s.post("/api/bots/flood/pause", json!({}));
    for _ in 0..2 {
        let id = s.start_workflow("gen", "burst", json!({}));
        assert_eq!(s.workflow_result(&id)["status"], "completed");
    }
    let runnable =
        "SELECT count(*) AS n FROM workflow_executions WHERE bot = 'flood' AND status = 'running'";
    assert_eq!(db.count(runnable), 2000);
    let tick = s.start_workflow("t", "tick", json!({}));
    s.post("/api/bots/flood/resume", json!({}));
    let r = s.workflow_result(&tick);
    assert_eq!(r["status"], "completed", "{r}");
    let done_before = db.count(&format!(
        "SELECT count(*) AS n FROM workflow_executions WHERE bot = 'flood' AND status = 'completed' \
         AND finished_at < (SELECT finished_at FROM workflow_executions WHERE id = '{tick}')"
    ));
    assert!(
        done_before < 1400,
        "the due timer ran after {done_before} of 2000 flood runs"
    );
}

/// A tree that delegates without end stops at its size limit, whatever its depth.
#[test]
fn a_workflow_tree_stops_at_its_size_limit() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "fan",
        "split",
        "a = BOT \"fan\" \"split\"\nb = BOT \"fan\" \"split\"\nRETURN 1\n",
    );
    let s = Server::start_with(
        &db.url,
        &bots.path,
        env(&[
            ("BOTSERVER_MAX_TREE", "40"),
            ("BOTSERVER_MAX_DEPTH", "1000"),
        ]),
    );
    let id = s.start_workflow("fan", "split", json!({}));
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "failed", "{r}");
    let e = error_of(&s, &id);
    assert!(
        e.contains("over the limit of 40 (BOTSERVER_MAX_TREE)"),
        "{e}"
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions"),
        40
    );
}

/// The public routes take a limited number of requests a minute per client: past the
/// burst, starting conversations is a 429 with a JSON error and Retry-After, while
/// /health and the admin routes are not limited; behind a trusted proxy each forwarded
/// client counts on its own, and an untrusted peer's X-Forwarded-For is ignored.
#[test]
fn public_routes_are_rate_limited_per_client() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("hi", "start", "TALK \"hi\"\n");
    let start = |s: &Server, forwarded: Option<&str>| -> (u16, Option<String>, serde_json::Value) {
        let mut req = ureq::post(&format!("{}/api/bots/hi/conversations", s.base))
            .set("Content-Type", "application/json");
        if let Some(f) = forwarded {
            req = req.set("X-Forwarded-For", f);
        }
        let resp = match req.send_string("{}") {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        };
        let status = resp.status();
        let retry = resp.header("retry-after").map(str::to_string);
        let body = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
        (status, retry, body)
    };

    // 20 a minute: bursts of 10.
    let s = Server::start_with(&db.url, &bots.path, env(&[("BOTSERVER_PUBLIC_RATE", "20")]));
    // The peer (127.0.0.1) is no trusted proxy: what it forwards does not count.
    let answers: Vec<_> = (0..15)
        .map(|i| start(&s, Some(&format!("203.0.113.{i}"))))
        .collect();
    let ok = answers.iter().filter(|a| a.0 == 200 || a.0 == 201).count();
    assert_eq!(ok, 10, "{answers:?}");
    let limited = answers.iter().find(|a| a.0 == 429).unwrap();
    assert_eq!(limited.2["error"], "rate_limited", "{limited:?}");
    assert!(limited
        .1
        .as_deref()
        .is_some_and(|r| r.parse::<u64>().unwrap() >= 1));
    let (st, _) = s.get("/health");
    assert_eq!(st, 200);
    let (st, _) = s.get("/api/workflows");
    assert_eq!(st, 200);
    drop(s);

    // Behind a trusted proxy (the test is the proxy), clients count apart.
    let s = Server::start_with(
        &db.url,
        &bots.path,
        env(&[
            ("BOTSERVER_PUBLIC_RATE", "20"),
            ("BOTSERVER_TRUSTED_PROXIES", "127.0.0.1"),
        ]),
    );
    for i in 0..15 {
        let (st, _, v) = start(&s, Some(&format!("198.51.100.{i}")));
        assert!(st == 200 || st == 201, "{st} {v}");
    }
    let limited = (0..15)
        .map(|_| start(&s, Some("198.51.100.200")).0)
        .filter(|st| *st == 429)
        .count();
    assert_eq!(limited, 5);
}
