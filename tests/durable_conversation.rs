//! Conversations survive a crash: a server killed with SIGKILL while a dialog waits in
//! HEAR is replaced by a new process, and the dialog goes on with its variables, its
//! NOW/RANDOM/UUID values unchanged, and no TALK delivered twice. Also: a `.bas` edited
//! while a conversation waits (version pinning), and bad input answered with 4xx JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{texts, BotDir, Server};
use serde_json::json;

const DIALOG: &str = r#"
TALK "What's your name?"
HEAR name
code = RANDOM(1, 1000000000)
id = UUID()
t = NOW()
TALK "Hi " + name + ": " + code + " " + id + " " + t
HEAR color
TALK name + " likes " + color + ": " + code + " " + id + " " + t
"#;

#[test]
fn sigkill_during_hear_loses_nothing_and_repeats_no_talk() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("dialog", "start", DIALOG);
    let a = Server::start(&db.url, &bots.path);
    let (id, first) = a.converse("dialog");
    assert_eq!(texts(&first), vec!["What's your name?"]);
    assert_eq!(first["waiting"], true);
    let second = a.say(&id, "Ann");
    let hi = texts(&second);
    assert_eq!(hi.len(), 1, "{second}");
    let values = hi[0]
        .strip_prefix("Hi Ann: ")
        .expect("greeting")
        .to_string();
    a.kill();

    let b = Server::start(&db.url, &bots.path);
    let third = b.say(&id, "blue");
    // Same name, and the same RANDOM, UUID and NOW as before the crash.
    assert_eq!(texts(&third), vec![format!("Ann likes blue: {values}")]);
    assert_eq!(third["status"], "completed");

    let (_, transcript) = b.get(&format!("/api/conversations/{id}"));
    let bot_lines: Vec<&str> = transcript["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "bot")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        bot_lines,
        vec![
            "What's your name?".to_string(),
            format!("Hi Ann: {values}"),
            format!("Ann likes blue: {values}")
        ]
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM messages WHERE direction = 'bot'"),
        3,
        "a TALK was delivered twice"
    );
}

#[test]
fn edited_script_old_conversation_keeps_old_version() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "pinned",
        "start",
        "TALK \"v1 hello\"\nHEAR x\nTALK \"v1 got \" + x\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let (old, r) = s.converse("pinned");
    assert_eq!(texts(&r), vec!["v1 hello"]);

    bots.script(
        "pinned",
        "start",
        "TALK \"v2 hello\"\nHEAR x\nTALK \"v2 got \" + x\nTALK \"bye\"\n",
    );
    let (new, r) = s.converse("pinned");
    assert_eq!(texts(&r), vec!["v2 hello"]);

    assert_eq!(texts(&s.say(&old, "a")), vec!["v1 got a"]);
    assert_eq!(texts(&s.say(&new, "b")), vec!["v2 got b", "bye"]);
    // Both versions are stored, content-addressed.
    assert_eq!(
        db.count("SELECT count(*) AS n FROM scripts WHERE bot = 'pinned'"),
        2
    );
}

#[test]
fn bad_input_gets_4xx_json_and_the_server_goes_on() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("echo", "start", "TALK \"hi\"\nHEAR x\nTALK \"echo \" + x\n");
    bots.script(
        "broken",
        "start",
        "TALK \"start\"\nHEAR x\ny = 1 / 0\nTALK \"never\"\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let (id, _) = s.converse("echo");

    let (st, v) = s.post_raw(&format!("/api/conversations/{id}/messages"), "{\"text\": ");
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error"], "bad_request");
    assert!(
        v["message"].as_str().unwrap().contains("invalid JSON"),
        "{v}"
    );

    let (st, v) = s.post(
        &format!("/api/conversations/{id}/messages"),
        json!({ "txt": "a" }),
    );
    assert_eq!(st, 400, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("text"),
        "the message names the field: {v}"
    );

    let (st, v) = s.post(&format!("/api/conversations/{id}/messages"), json!({}));
    assert_eq!(st, 400);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("missing field `text`"),
        "{v}"
    );

    let big = "x".repeat(70 * 1024);
    let (st, v) = s.post(
        &format!("/api/conversations/{id}/messages"),
        json!({ "text": big }),
    );
    assert_eq!(st, 413, "{v}");
    assert_eq!(v["error"], "too_large");

    let (st, v) = s.post("/api/bots/nobody/conversations", json!({}));
    assert_eq!(st, 404, "{v}");
    assert!(v["message"].as_str().unwrap().contains("nobody"), "{v}");

    let unknown = uuid::Uuid::now_v7();
    let (st, v) = s.post(
        &format!("/api/conversations/{unknown}/messages"),
        json!({ "text": "a" }),
    );
    assert_eq!(st, 404, "{v}");
    let (st, v) = s.post(
        "/api/conversations/not-a-uuid/messages",
        json!({ "text": "a" }),
    );
    assert_eq!(st, 400, "{v}");
    let (st, _) = s.get("/api/no/such/route");
    assert_eq!(st, 404);

    // The conversation still works after all that.
    assert_eq!(texts(&s.say(&id, "ok")), vec!["echo ok"]);
    let (st, v) = s.post(
        &format!("/api/conversations/{id}/messages"),
        json!({ "text": "again" }),
    );
    assert_eq!(st, 409, "an ended conversation takes no message: {v}");

    // A runtime error fails the execution with the .bas position; the server goes on.
    let (bid, _) = s.converse("broken");
    let r = s.say(&bid, "go");
    assert_eq!(r["status"], "failed", "{r}");
    let (_, conv) = s.get(&format!("/api/conversations/{bid}"));
    assert_eq!(conv["status"], "failed");
    assert_eq!(
        conv["error"], "broken/start.bas:3:7: division by zero",
        "{conv}"
    );
    let (st, health) = s.get("/health");
    assert_eq!(st, 200);
    assert_eq!(health["database"], "ok");
}
