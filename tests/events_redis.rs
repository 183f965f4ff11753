//! Redis is only a wake-up carrier: with two instances on one database and one Redis, a
//! WAIT on one instance is woken by a PUBLISH on the other (a front instance with no run
//! slots, so the woken runs are left to the waiting instance and it must be woken); when
//! Redis is stopped in the middle, nothing is lost (waits still wake, through PostgreSQL),
//! every ON EVENT handler still runs exactly once per event, `/health` says Redis is down,
//! and the instances reconnect when it is back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Child, Command, Stdio};

use common::db::TestDb;
use common::server::{eventually, BotDir, Options, Server};
use serde_json::json;

/// A private redis-server on a free port, killed on drop.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(port: u16) -> Redis {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is needed for this test");
        let r = Redis { child, port };
        eventually(10.0, "redis-server answering", || {
            std::net::TcpStream::connect(("127.0.0.1", port))
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        r
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const HANDLER: &str = r#"
ON EVENT "ping" DO
  SET BOT MEMORY "seen:" + event.payload.n, TRUE
  PUBLISH EVENT "handled" WITH { bot: BOTNAME, n: event.payload.n }
END ON
"#;

fn waiters(s: &Server, from: usize, to: usize) -> Vec<(usize, String)> {
    (from..to)
        .map(|i| {
            let (st, v) = s.post(
                "/api/workflows",
                json!({ "bot": "waiter", "script": "start", "input": { "n": format!("go-{i}") } }),
            );
            assert_eq!(st, 201, "{v}");
            let id = v["id"].as_str().unwrap().to_string();
            // Publish only once the wait has begun (it may start on the scheduler).
            eventually(20.0, "waiter waiting", || {
                let d = s.get(&format!("/api/workflows/{id}")).1;
                if d["status"] == "waiting" {
                    Ok(())
                } else {
                    Err(d["status"].to_string())
                }
            });
            (i, id)
        })
        .collect()
}

fn publish(s: &Server, name: &str, payload: serde_json::Value) {
    let (st, v) = s.post("/api/events", json!({ "name": name, "payload": payload }));
    assert_eq!(st, 201, "{v}");
}

fn assert_woken(a: &Server, ws: &[(usize, String)]) {
    for (i, id) in ws {
        let (_, r) = a.get(&format!("/api/workflows/{id}/result?timeout=20"));
        assert_eq!(r["status"], "completed", "waiter {i}: {r}");
        assert_eq!(r["result"], json!({ "i": i }), "waiter {i}: {r}");
    }
}

#[test]
fn redis_stopped_midway_loses_nothing() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("h1", "start", &HANDLER.replace("BOTNAME", "\"h1\""));
    bots.script("h2", "start", &HANDLER.replace("BOTNAME", "\"h2\""));
    bots.script(
        "waiter",
        "start",
        "WAIT FOR EVENT n\nRETURN event.payload\n",
    );
    let port = free_port();
    let redis = Redis::start(port);
    let opts = Options {
        redis_url: Some(redis.url()),
        ..Options::default()
    };
    let a = Server::start_with(&db.url, &bots.path, opts.clone());
    // B is a front instance (no run slots). A publisher with free slots runs what its
    // event wakes itself and wakes nobody; with none, the woken waits (and the handler
    // runs its pings start) are left to A, which must be woken: through Redis while it
    // is up, through PostgreSQL once it is down.
    let b = Server::start_with(
        &db.url,
        &bots.path,
        Options {
            env: vec![("BOTSERVER_MAX_RUNS".into(), "0".into())],
            ..opts.clone()
        },
    );
    eventually(10.0, "both instances connected to Redis", || {
        let (ha, hb) = (a.get("/health").1, b.get("/health").1);
        if ha["redis"] == "ok" && hb["redis"] == "ok" {
            Ok(())
        } else {
            Err(format!("{ha} {hb}"))
        }
    });

    // With Redis: waits on A woken by publishes on B. Pings are published on both
    // instances, but every handler run is made by A: those of its own pings right after
    // its publish, those of B's pings once woken (B makes no run at all).
    let first = waiters(&a, 0, 10);
    for (i, _) in &first {
        publish(&b, &format!("go-{i}"), json!({ "i": i }));
    }
    for n in 0..20 {
        publish(if n % 2 == 0 { &a } else { &b }, "ping", json!({ "n": n }));
    }
    assert_woken(&a, &first);

    // Redis goes away in the middle.
    redis.stop();
    eventually(10.0, "health says Redis is down", || {
        let (st, h) = a.get("/health");
        if h["redis"] == "down" && h["status"] == "degraded" && st == 503 {
            Ok(())
        } else {
            Err(format!("{st} {h}"))
        }
    });
    let second = waiters(&a, 10, 20);
    for (i, _) in &second {
        publish(&b, &format!("go-{i}"), json!({ "i": i }));
    }
    for n in 20..40 {
        publish(if n % 2 == 0 { &a } else { &b }, "ping", json!({ "n": n }));
    }
    assert_woken(&a, &second);

    // Every handler ran exactly once per ping (all of them on A, whichever instance
    // published the ping), and the front instance ran nothing.
    eventually(20.0, "all handlers ran", || {
        let n = db.count("SELECT count(*) AS n FROM workflow_events WHERE name = 'handled'");
        if n >= 80 {
            Ok(())
        } else {
            Err(format!("{n} of 80 handled"))
        }
    });
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM (SELECT payload->>'bot', payload->>'n' FROM workflow_events \
             WHERE name = 'handled' GROUP BY 1, 2 HAVING count(*) = 1) t"
        ),
        80
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_events WHERE name = 'handled'"),
        80
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM bot_memories WHERE key LIKE 'seen:%'"),
        80
    );
    assert_eq!(b.runs_total(), 0, "the front instance made runs");

    // Redis comes back: both instances reconnect.
    let _redis = Redis::start(port);
    eventually(15.0, "instances reconnected to Redis", || {
        let (ha, hb) = (a.get("/health").1, b.get("/health").1);
        if ha["redis"] == "ok" && hb["redis"] == "ok" {
            Ok(())
        } else {
            Err(format!("{ha} {hb}"))
        }
    });
    assert_eq!(
        a.log_text().matches("Redis is unreachable").count(),
        1,
        "the outage is reported once:\n{}",
        a.log_text()
    );
}

/// An instance that published nothing while Redis was away holds a connection to the
/// old Redis: its first publish after the restart fails on it. Its state must follow
/// Redis (the publisher reconnects), not stay at that failure: `/health` is 200 and
/// "ok" again, and stays so.
#[test]
fn redis_status_follows_redis_after_an_idle_restart() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("w", "start", "TALK \"hi\"\n");
    let port = free_port();
    let redis = Redis::start(port);
    // A front instance (no run slots): every start is stored and announced through
    // Redis, so each start uses the publisher.
    let opts = Options {
        redis_url: Some(redis.url()),
        env: vec![("BOTSERVER_MAX_RUNS".to_string(), "0".to_string())],
        ..Options::default()
    };
    let a = Server::start_with(&db.url, &bots.path, opts);
    // B runs what A stores, so no work is left over that A would announce again and
    // again (each announcement would reconnect A's publisher during the outage).
    let _b = Server::start(&db.url, &bots.path);
    let start = || {
        let (st, v) = a.post(
            "/api/workflows",
            json!({ "bot": "w", "script": "start", "input": {} }),
        );
        assert!(st == 201 || st == 202, "{st} {v}");
    };
    let ok = |what: &str| {
        eventually(15.0, what, || {
            let (st, h) = a.get("/health");
            if st == 200 && h["redis"] == "ok" {
                Ok(())
            } else {
                Err(format!("{st} {h}"))
            }
        })
    };
    ok("Redis up at start");
    // The publisher connects once; then nothing is left to announce.
    start();
    eventually(10.0, "B ran the work", || {
        let n =
            db.count("SELECT count(*) AS n FROM workflow_executions WHERE status <> 'completed'");
        if n == 0 {
            Ok(())
        } else {
            Err(format!("{n} not completed"))
        }
    });
    redis.stop();
    eventually(10.0, "health says Redis is down", || {
        let (st, h) = a.get("/health");
        if st == 503 && h["redis"] == "down" {
            Ok(())
        } else {
            Err(format!("{st} {h}"))
        }
    });
    let _redis = Redis::start(port);
    ok("the subscriber back");
    // Announcing now first meets the old connection.
    for _ in 0..5 {
        start();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    ok("the publisher back");
    for _ in 0..10 {
        let (st, h) = a.get("/health");
        assert_eq!((st, h["redis"].as_str()), (200, Some("ok")), "{h}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
