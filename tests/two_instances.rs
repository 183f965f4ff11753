//! Two server instances on one database share the work safely: 200 conversations driven
//! through both at once (each call to either instance) deliver every TALK exactly once;
//! when one instance is killed, the other takes over its executions once their leases
//! lapse (within 15 s).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use common::db::TestDb;
use common::server::{eventually, texts, BotDir, Options, Server};
use serde_json::json;

#[test]
fn two_hundred_conversations_through_two_instances() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "chat",
        "start",
        "TALK \"hello\"\nHEAR a\nn = GET BOT MEMORY(\"seen\")\nTALK \"got \" + a\nHEAR b\nTALK \"done \" + a + \"-\" + b\n",
    );
    let a = Server::start(&db.url, &bots.path);
    let b = Server::start(&db.url, &bots.path);
    let servers = [&a, &b];
    std::thread::scope(|scope| {
        for t in 0..8 {
            scope.spawn(move || {
                for i in 0..25 {
                    let k = t * 25 + i;
                    let first = servers[k % 2];
                    let second = servers[(k + 1) % 2];
                    let (id, r) = first.converse("chat");
                    assert_eq!(texts(&r), vec!["hello"]);
                    let r = second.say(&id, &format!("x{k}"));
                    assert_eq!(texts(&r), vec![format!("got x{k}")], "{r}");
                    let r = first.say(&id, "y");
                    assert_eq!(texts(&r), vec![format!("done x{k}-y")], "{r}");
                    assert_eq!(r["status"], "completed");
                }
            });
        }
    });
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE status = 'completed'"),
        200
    );
    // Every conversation's three TALKs are in its transcript exactly once...
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM (SELECT conversation_id FROM messages WHERE direction = 'bot' \
             GROUP BY conversation_id HAVING count(*) = 3 AND count(DISTINCT text) = 3) t"
        ),
        200
    );
    // ...and in its journal exactly once, with each HEAR answered once.
    assert_eq!(
        db.count("SELECT count(*) AS n FROM journal WHERE key LIKE 'talk#%'"),
        600
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM journal WHERE key LIKE 'hear#%'"),
        400
    );
}

#[test]
fn killed_instance_executions_resume_on_the_other() {
    let db = TestDb::new();
    let bots = BotDir::new();
    // The first run parks on a timer; the second (after it) computes long enough that
    // the instance is killed in the middle of it, holding the lease.
    bots.script(
        "worker",
        "start",
        "WAIT 0.3\nSTEP 1: total = 0\nFOR i = 1 TO 30000\n  total = total + i\nNEXT\nSET BOT MEMORY \"done:\" + workflow_id, total\nRETURN total\n",
    );
    let opts = |name: &str| Options {
        instance: Some(name.into()),
        env: vec![("BOTSERVER_MAX_RUNS".into(), "4".into())],
        ..Options::default()
    };
    let a = Server::start_with(&db.url, &bots.path, opts("inst-a"));
    let b = Server::start_with(&db.url, &bots.path, opts("inst-b"));
    let ids: Vec<String> = (0..12)
        .map(|_| {
            let (st, v) = a.post(
                "/api/workflows",
                json!({ "bot": "worker", "script": "start", "input": {} }),
            );
            assert_eq!(st, 201, "{v}");
            v["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no id in {v}"))
                .to_string()
        })
        .collect();
    let held_by_a = eventually(20.0, "instance A running some of them", || {
        let n = db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE owner = 'inst-a' AND status = 'running'",
        );
        if n > 0 {
            Ok(n)
        } else {
            Err("A holds no lease yet".into())
        }
    });
    a.kill();
    let killed_at = Instant::now();
    eventually(
        20.0,
        "all workflows completed on the surviving instance",
        || {
            let done = db
                .count("SELECT count(*) AS n FROM workflow_executions WHERE status = 'completed'");
            if done == 12 {
                Ok(())
            } else {
                Err(format!(
                    "{done} of 12 completed ({held_by_a} were running on A when it died)"
                ))
            }
        },
    );
    let took = killed_at.elapsed().as_secs_f64();
    assert!(took < 15.0, "takeover took {took:.1} s");
    for id in &ids {
        let (_, r) = b.get(&format!("/api/workflows/{id}/result?timeout=0"));
        assert_eq!(r["result"], 450015000, "{r}");
    }
    // Each workflow's side effect happened (a replay after takeover writes the same key).
    assert_eq!(
        db.count("SELECT count(*) AS n FROM bot_memories WHERE key LIKE 'done:%'"),
        12
    );
}
