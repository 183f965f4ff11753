//! No wake-up is lost and no early event counts: thousands of workflows each `WAIT FOR
//! EVENT "go-" + n` on one of two instances while other threads publish `go-n` through
//! either instance at random moments: before the workflow started (must NOT satisfy
//! it), right after it started (racing the wait's cursor and registration), and once it
//! is known to be waiting. Every workflow must complete with the first `go-n` event
//! above its cursor, none may be left waiting while such an event exists.
//!
//! The number of races is `EVENT_RACES` (default 10,000, the figure: about a
//! minute in a debug build on two cores).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use common::db::TestDb;
use common::server::{eventually, BotDir, Options, Server};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::RunQueryDsl;
use rand::Rng;
use serde_json::json;

const DEFAULT_RACES: usize = 10_000;
const STARTERS: usize = 8;
const PUBLISHERS: usize = 6;

fn races() -> usize {
    std::env::var("EVENT_RACES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_RACES)
}

fn publish(s: &Server, n: usize, phase: &str) -> i64 {
    let (st, v) = s.post(
        "/api/events",
        json!({ "name": format!("go-{n}"), "payload": { "n": n, "phase": phase } }),
    );
    assert_eq!(st, 201, "publishing go-{n}: {v}");
    v["id"].as_i64().unwrap()
}

/// What the test did for one race.
#[derive(Default, Clone)]
struct Race {
    workflow: String,
    early: Option<i64>,
    racing: Option<i64>,
}

#[derive(diesel::QueryableByName, Debug)]
struct Outcome {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    got: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    got_name: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    cursor: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    first_after: Option<i64>,
}

const OUTCOMES: &str = "SELECT e.id::text AS id, (e.input->>'n')::bigint AS n, e.status, \
     (e.result->>'id')::bigint AS got, e.result->>'name' AS got_name, \
     (j.value->>'cursor')::bigint AS cursor, \
     (SELECT min(v.id) FROM workflow_events v WHERE v.name = 'go-' || (e.input->>'n') \
        AND v.id > (j.value->>'cursor')::bigint) AS first_after \
     FROM workflow_executions e \
     LEFT JOIN journal j ON j.execution_id = e.id AND j.key = 'event#1!cursor' \
     WHERE e.bot = 'racer'";

#[test]
fn randomized_publish_and_wait_races_lose_no_wake_up() {
    let total = races();
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "racer",
        "start",
        "WAIT FOR EVENT \"go-\" + n\nRETURN { id: event.id, name: event.name, n: event.payload.n }\n",
    );
    let opts = Options {
        env: vec![("BOTSERVER_MAX_RUNS".into(), "8".into())],
        ..Options::default()
    };
    let a = Server::start_with(&db.url, &bots.path, opts.clone());
    let b = Server::start_with(&db.url, &bots.path, opts);
    let servers = [&a, &b];
    let began = Instant::now();

    // Phase 1: starter threads start every workflow, some after an early publish of its
    // name; for most, publisher threads publish its name at a random moment from just
    // before the start request to a few milliseconds after it, racing the wait.
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Race>> = Mutex::new(vec![Race::default(); total]);
    let (tx, rx) = mpsc::channel::<(usize, Instant)>();
    let rx = Mutex::new(rx);
    std::thread::scope(|scope| {
        for _ in 0..PUBLISHERS {
            scope.spawn(|| {
                let mut rng = rand::thread_rng();
                loop {
                    let Ok((n, at)) = rx.lock().unwrap().recv() else {
                        break;
                    };
                    std::thread::sleep(at.saturating_duration_since(Instant::now()));
                    let id = publish(servers[rng.gen_range(0..2)], n, "racing");
                    done.lock().unwrap()[n].racing = Some(id);
                }
            });
        }
        for _ in 0..STARTERS {
            let tx = tx.clone();
            scope.spawn(|| {
                let tx = tx;
                let mut rng = rand::thread_rng();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    let early = rng
                        .gen_bool(0.3)
                        .then(|| publish(servers[rng.gen_range(0..2)], n, "early"));
                    if rng.gen_bool(0.6) {
                        let at = Instant::now() + Duration::from_micros(rng.gen_range(0..6000));
                        tx.send((n, at)).unwrap();
                    }
                    let (st, v) = servers[rng.gen_range(0..2)].post(
                        "/api/workflows",
                        json!({ "bot": "racer", "script": "start", "input": { "n": n } }),
                    );
                    assert_eq!(st, 201, "{v}");
                    let mut d = done.lock().unwrap();
                    d[n].workflow = v["id"].as_str().unwrap().to_string();
                    d[n].early = early;
                }
            });
        }
        drop(tx);
    });
    let races = done.into_inner().unwrap();
    let started = began.elapsed();

    // Phase 2: every publish has returned. Once nothing runs, an execution still
    // waiting must have no event of its name above its cursor (else a wake-up was lost).
    eventually(300.0, "no racer running", || {
        let running = db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE bot = 'racer' AND status = 'running'",
        );
        if running == 0 {
            Ok(())
        } else {
            Err(format!("{running} still running"))
        }
    });
    let lost = db.count(
        "SELECT count(*) AS n FROM workflow_executions e JOIN event_waits w ON w.execution_id = e.id \
         WHERE e.bot = 'racer' AND e.status = 'waiting' AND EXISTS \
         (SELECT 1 FROM workflow_events v WHERE v.name = ANY(w.names) AND v.id > w.cursor)",
    );
    assert_eq!(
        lost, 0,
        "waiting executions with an event above their cursor"
    );
    let unregistered = db.count(
        "SELECT count(*) AS n FROM workflow_executions e WHERE e.bot = 'racer' AND e.status = 'waiting' \
         AND NOT EXISTS (SELECT 1 FROM event_waits w WHERE w.execution_id = e.id)",
    );
    assert_eq!(
        unregistered, 0,
        "waiting executions without a registered wait"
    );

    // Phase 3: those still waiting get an event now that they are known to wait.
    let waiting: Vec<Outcome> = diesel::sql_query(format!("{OUTCOMES} AND e.status = 'waiting'"))
        .load(&mut db.conn())
        .unwrap();
    let mut late: HashMap<i64, i64> = HashMap::new();
    for (k, w) in waiting.iter().enumerate() {
        late.insert(w.n, publish(servers[k % 2], w.n as usize, "late"));
    }
    eventually(300.0, "every racer completed", || {
        let failed = db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE bot = 'racer' AND status = 'failed'",
        );
        assert_eq!(failed, 0, "racers failed; log of A:\n{}", a.log_text());
        let open = db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE bot = 'racer' AND status <> 'completed'",
        );
        if open == 0 {
            Ok(())
        } else {
            Err(format!("{open} not completed"))
        }
    });

    // Every workflow completed with the first event of its name above its cursor;
    // an early event never counted; a racing event counted exactly when it was above.
    let outcomes: Vec<Outcome> = diesel::sql_query(OUTCOMES).load(&mut db.conn()).unwrap();
    assert_eq!(outcomes.len(), total);
    let (mut early_total, mut racing_won, mut racing_lost) = (0, 0, 0);
    for o in &outcomes {
        let race = &races[o.n as usize];
        assert_eq!(race.workflow, o.id, "{o:?}");
        assert_eq!(o.status, "completed", "{o:?}");
        let cursor = o.cursor.unwrap_or_else(|| panic!("no cursor: {o:?}"));
        let got = o.got.unwrap_or_else(|| panic!("no event: {o:?}"));
        assert_eq!(o.got_name.as_deref(), Some(format!("go-{}", o.n).as_str()));
        assert!(
            got > cursor,
            "satisfied by an event at or below its cursor: {o:?}"
        );
        assert_eq!(
            Some(got),
            o.first_after,
            "not the first event after the wait: {o:?}"
        );
        if let Some(early) = race.early {
            early_total += 1;
            assert!(
                early <= cursor,
                "early event {early} above the cursor: {o:?}"
            );
        }
        match (race.racing, late.get(&o.n)) {
            (Some(r), None) => {
                assert_eq!(got, r, "{o:?}");
                racing_won += 1;
            }
            (Some(r), Some(l)) => {
                assert!(
                    r <= cursor,
                    "racing event {r} above the cursor yet waited: {o:?}"
                );
                assert_eq!(got, *l, "{o:?}");
                racing_lost += 1;
            }
            (None, Some(l)) => assert_eq!(got, *l, "{o:?}"),
            (None, None) => panic!("completed with no event published after it: {o:?}"),
        }
    }
    eprintln!(
        "{total} races in {:.1} s (starting and racing publishes {:.1} s): {early_total} early events \
         ignored, {racing_won} racing events satisfied a wait, {racing_lost} racing events came \
         before the cursor, {} waits satisfied by a publish once known to wait",
        began.elapsed().as_secs_f64(),
        started.as_secs_f64(),
        late.len()
    );
}

/// Waits with a TIMEOUT for either of two names, which are published over and over (mostly events their
/// WHERE rejects, so each wait is woken, re-registered and finally timed out by its
/// timer while publishers keep going): no publish fails (no deadlock between a publish
/// and a run ending its wait), every wait ends once, either with its own event or with
/// NULL and exactly one `timeout_occurred`.
#[test]
fn timeouts_racing_publishes_end_each_wait_once() {
    const WAITERS: usize = 120;
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "ticker",
        "start",
        "WAIT FOR EVENT \"tick-\" + (n MOD 6) OR \"tock-\" + (n MOD 4) WHERE event.payload.n = n TIMEOUT 1 + (n MOD 3) / 2\n\
         IF ISNULL(event) THEN\n  RETURN { n: n, timeout: TRUE }\nEND IF\n\
         RETURN { n: n, id: event.id }\n",
    );
    let opts = Options {
        env: vec![("BOTSERVER_MAX_RUNS".into(), "8".into())],
        ..Options::default()
    };
    let a = Server::start_with(&db.url, &bots.path, opts.clone());
    let b = Server::start_with(&db.url, &bots.path, opts);
    let servers = [&a, &b];
    let ids: Vec<String> = (0..WAITERS)
        .map(|n| {
            let (st, v) = servers[n % 2].post(
                "/api/workflows",
                json!({ "bot": "ticker", "script": "start", "input": { "n": n } }),
            );
            assert_eq!(st, 201, "{v}");
            v["id"].as_str().unwrap().to_string()
        })
        .collect();
    let open = || {
        db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE bot = 'ticker' AND status NOT IN ('completed', 'failed')",
        )
    };
    // Publish until every wait has ended: random n (a few match a waiter still open).
    std::thread::scope(|scope| {
        for t in 0..4 {
            let open = &open;
            scope.spawn(move || {
                let mut rng = rand::thread_rng();
                let mut k = 0;
                while k % 20 != 0 || open() > 0 {
                    k += 1;
                    let n = rng.gen_range(0..WAITERS * 20);
                    let (st, v) = servers[(t + k) % 2].post(
                        "/api/events",
                        json!({ "name": if k % 2 == 0 { format!("tick-{}", n % 6) } else { format!("tock-{}", n % 4) },
                                "payload": { "n": n } }),
                    );
                    assert_eq!(st, 201, "publish {k} of thread {t}: {v}");
                }
            });
        }
    });
    let mut timeouts = 0;
    for (n, id) in ids.iter().enumerate() {
        let (_, r) = a.get(&format!("/api/workflows/{id}/result?timeout=10"));
        assert_eq!(r["status"], "completed", "{r}");
        assert_eq!(r["result"]["n"], n, "{r}");
        let timeout_events = db.count(&format!(
            "SELECT count(*) AS n FROM workflow_events WHERE name = 'timeout_occurred' \
             AND payload->>'workflow_id' = '{id}'"
        ));
        if r["result"]["timeout"] == true {
            timeouts += 1;
            assert_eq!(timeout_events, 1, "{r}");
        } else {
            assert_eq!(timeout_events, 0, "{r}");
            let got = r["result"]["id"].as_i64().unwrap();
            let c = db.count(&format!(
                "SELECT (value->>'cursor')::bigint AS n FROM journal \
                 WHERE execution_id = '{id}' AND key = 'event#1!cursor'"
            ));
            let first = db.count(&format!(
                "SELECT min(id) AS n FROM workflow_events WHERE name IN ('tick-{}', 'tock-{}') \
                 AND payload->>'n' = '{n}' AND id > {c}",
                n % 6,
                n % 4
            ));
            assert_eq!(
                got, first,
                "not the first matching event after the wait: {r}"
            );
        }
    }
    assert_eq!(
        db.count("SELECT count(*) AS n FROM event_waits"),
        0,
        "no wait left registered"
    );
    eprintln!(
        "{WAITERS} waits: {timeouts} timed out, {} got their event, {} events published",
        WAITERS - timeouts,
        db.count("SELECT count(*) AS n FROM workflow_events WHERE name LIKE 't_ck-%'")
    );
}
