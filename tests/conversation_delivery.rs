//! Messages to a conversation whose dialog needs the database only at commit go through
//! the group commit, read without a lock (`Runtime::deliver_grouped`). This tries to
//! break what the row lock used to give: messages racing to one conversation are each
//! answered at most once and in order, none is lost or journaled twice, and the
//! transcript holds each delivered message with its answer after it. An instance
//! remembers a conversation as its last message left it (no read for the next one);
//! messages alternating between two instances, an operator's cancel in between, never
//! make one answer from a stale memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{texts, BotDir, Options, Server};
use serde_json::json;

#[test]
fn racing_messages_are_each_answered_at_most_once_and_kept_in_order() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "echo",
        "start",
        "n = 0\nDO\n  HEAR text\n  n = n + 1\n  TALK \"#\" + n + \" \" + text\nLOOP\n",
    );
    let s = Server::start(&db.url, &bots.path);
    for round in 0..5 {
        let (id, _) = s.converse("echo");
        let answers: Vec<(u16, serde_json::Value)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let (s, id) = (&s, &id);
                    scope.spawn(move || {
                        s.post(
                            &format!("/api/conversations/{id}/messages"),
                            json!({ "text": format!("m{round}-{i}") }),
                        )
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let delivered: Vec<String> = answers
            .iter()
            .filter(|(st, _)| *st == 200)
            .flat_map(|(_, v)| texts(v))
            .collect();
        for (st, v) in &answers {
            assert!(*st == 200 || *st == 409, "{st}: {v}");
        }
        assert!(!delivered.is_empty(), "no message delivered: {answers:?}");
        // The answers count 1, 2, 3, …: each delivered message ran the loop once.
        let mut numbers: Vec<usize> = delivered
            .iter()
            .map(|t| {
                t.trim_start_matches('#')
                    .split(' ')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        numbers.sort_unstable();
        assert_eq!(
            numbers,
            (1..=delivered.len()).collect::<Vec<_>>(),
            "{delivered:?}"
        );
        // Journal and transcript: one entry and one user line per delivered message, each
        // user line followed by its answer.
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) AS n FROM journal WHERE execution_id = '{id}' AND key LIKE 'hear#%'"
            )),
            delivered.len() as i64
        );
        let (_, t) = s.get(&format!("/api/conversations/{id}"));
        let lines: Vec<(String, String)> = t["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["direction"].as_str().unwrap_or_default().to_string(),
                    m["text"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let users = lines.iter().filter(|(d, _)| d == "user").count();
        assert_eq!(users, delivered.len(), "{t}");
        for pair in lines.chunks(2) {
            assert_eq!(pair.len(), 2, "{t}");
            assert_eq!(pair[0].0, "user", "{t}");
            assert_eq!(pair[1].0, "bot", "{t}");
            assert!(pair[1].1.ends_with(&pair[0].1), "{t}");
        }
    }
}

#[test]
fn a_conversation_remembered_by_one_instance_and_moved_on_by_another_is_read_afresh() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "count",
        "start",
        "n = 0\nDO\n  HEAR text\n  n = n + 1\n  TALK \"#\" + n + \" \" + text\nLOOP\n",
    );
    let on = |name: &str| Options {
        instance: Some(name.into()),
        ..Options::default()
    };
    let a = Server::start_with(&db.url, &bots.path, on("conv-a"));
    let b = Server::start_with(&db.url, &bots.path, on("conv-b"));
    let (id, _) = a.converse("count");
    // a, a (from memory), b, b, a (its memory is stale: two runs behind), b, a, a.
    let order = [&a, &a, &b, &b, &a, &b, &a, &a];
    for (i, s) in order.iter().enumerate() {
        let v = s.say(&id, &format!("m{i}"));
        assert_eq!(
            texts(&v),
            vec![format!("#{} m{i}", i + 1)],
            "message {i}: {v}"
        );
        assert_eq!(v["waiting"], true, "{v}");
    }
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM journal WHERE execution_id = '{id}' AND key LIKE 'hear#%'"
        )),
        order.len() as i64
    );
    // Remembered by the instance that started it, answered first by the other: the
    // starter's memory of it is stale at the next message, which is read afresh.
    let (second, _) = a.converse("count");
    for (i, s) in [&b, &a, &a].iter().enumerate() {
        let v = s.say(&second, &format!("s{i}"));
        assert_eq!(
            texts(&v),
            vec![format!("#{} s{i}", i + 1)],
            "second, message {i}: {v}"
        );
    }
    // Cancelled through the other instance: the one that remembers it waiting refuses.
    let (st, v) = b.post(&format!("/api/workflows/{id}/cancel"), json!({}));
    assert!(st == 200 || st == 202 || st == 204, "cancel: {st} {v}");
    let (st, v) = a.post(
        &format!("/api/conversations/{id}/messages"),
        json!({ "text": "after the cancel" }),
    );
    assert_eq!(st, 409, "{v}");
    let (_, t) = a.get(&format!("/api/conversations/{id}"));
    let users = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "user")
        .count();
    assert_eq!(users, order.len(), "{t}");
}
