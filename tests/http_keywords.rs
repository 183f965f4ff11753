//! Tries to make an HTTP keyword request twice, lose its answer, or reach what it must
//! not: a peer HTTP server on 127.0.0.1 (axum, in the test) counts every request with its
//! `Idempotency-Key`. A GET answered once is answered from the journal on every replay;
//! a server SIGKILLed between the request and the commit repeats it after restart with
//! the same key; loopback is refused unless an allow-list (the server's or the bot's
//! `http-allow`) names it; JSON answers become maps and lists; SET HEADER reaches the peer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;

use common::db::TestDb;
use common::peer::{allow, Peer};
use common::server::{eventually, BotDir, Server};
use serde_json::{json, Value};

#[test]
fn answers_are_journaled_and_never_requested_again_on_replay() {
    let db = TestDb::new();
    let peer = Peer::start();
    let bots = BotDir::new();
    bots.script(
        "shop",
        "start",
        &format!(
            "ORCHESTRATE WORKFLOW \"fetch\"\n\
             STEP 1: items = GET \"{}\"\n\
             WAIT 0.2\n\
             SET HEADER \"X-Trace\", \"order-\" & LEN(items.items)\n\
             STEP 2: r = POST \"{}\", {{ count: LEN(items.items) }}\n\
             WAIT 0.2\n\
             RETURN {{ first: items.items[0].name, posted: r.seen }}\n\
             END WORKFLOW\n",
            peer.url("/items"),
            peer.url("/orders")
        ),
    );
    let s = Server::start_with(&db.url, &bots.path, allow(&peer));
    let id = s.start_workflow("shop", "start", json!({}));
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], json!({ "first": "tea", "posted": 2 }));
    // Three runs (two WAITs), but each request went out once.
    let seen = peer.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("GET", "/items")
    );
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("POST", "/orders")
    );
    assert_eq!(seen[1].trace.as_deref(), Some("order-2"));
    assert_eq!(
        serde_json::from_str::<Value>(&seen[1].body).unwrap(),
        json!({ "count": 2 })
    );
    assert!(
        seen[0].key.starts_with(&id) && seen[1].key.starts_with(&id),
        "{seen:?}"
    );
    assert_ne!(seen[0].key, seen[1].key);
}

#[test]
fn loopback_is_refused_without_the_allow_list_and_allowed_by_the_bot_setting() {
    let db = TestDb::new();
    let peer = Peer::start();
    let bots = BotDir::new();
    let script = format!(
        "ORCHESTRATE WORKFLOW \"fetch\"\n  STEP 1: x = GET \"{}\"\n  RETURN LEN(x.items)\nEND WORKFLOW\n",
        peer.url("/items")
    );
    bots.script("closed", "start", &script);
    bots.script("open", "start", &script);
    let config = bots.path.join("open.gbai").join("open.gbot");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.csv"),
        format!("name,value\nhttp-allow,127.0.0.1:{}\n", peer.port),
    )
    .unwrap();
    let s = Server::start(&db.url, &bots.path);

    let closed = s.start_workflow("closed", "start", json!({}));
    let r = s.workflow_result(&closed);
    assert_eq!(r["status"], "failed", "{r}");
    let (_, d) = s.get(&format!("/api/workflows/{closed}"));
    let error = d["error"].as_str().unwrap_or_default().to_string();
    assert!(
        error.contains("127.0.0.1 is a private or local address")
            && error.contains("GET http://127.0.0.1"),
        "{d}"
    );
    assert!(peer.seen().is_empty(), "{:?}", peer.seen());

    let open = s.start_workflow("open", "start", json!({}));
    let r = s.workflow_result(&open);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], json!(2));
    assert_eq!(peer.seen().len(), 1);
}

#[test]
fn a_request_cut_off_by_sigkill_is_repeated_with_the_same_key() {
    let db = TestDb::new();
    let peer = Peer::start();
    let bots = BotDir::new();
    bots.script(
        "shop",
        "start",
        &format!(
            "ORCHESTRATE WORKFLOW \"fetch\"\n  WAIT 0.2\n  STEP 1: x = POST \"{}\", {{ n: 1 }}\n  RETURN x.seen\nEND WORKFLOW\n",
            peer.url("/charge")
        ),
    );
    let mut opts = allow(&peer);
    opts.env
        .push(("BOTSERVER_LEASE_SECS".to_string(), "2".to_string()));
    // The first answer takes long enough to kill the server while it waits for it.
    peer.state.delay_ms.store(5_000, Ordering::SeqCst);
    let s = Server::start_with(&db.url, &bots.path, opts.clone());
    let id = s.start_workflow("shop", "start", json!({}));
    eventually(20.0, "the peer to see the request", || {
        if peer.seen().is_empty() {
            Err("no request yet".to_string())
        } else {
            Ok(())
        }
    });
    s.kill();
    peer.state.delay_ms.store(0, Ordering::SeqCst);

    let s = Server::start_with(&db.url, &bots.path, opts);
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "completed", "{r}");
    let seen = peer.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[0].key, seen[1].key,
        "the repeat must carry the same Idempotency-Key"
    );
    assert!(seen[0].key.starts_with(&id));
    // The answer the workflow kept is the repeat's (the first never reached the journal).
    assert_eq!(r["result"], json!(2));
}
