//! New packages and new scripts are served without a restart: the server watches its bots
//! folder (a look every two seconds) and loads what appeared or changed, while a running
//! conversation stays on the version it started with.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{eventually, texts, BotDir, Server};
use serde_json::json;

#[test]
fn new_packages_and_scripts_are_loaded_live() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "first",
        "start",
        "TALK \"v1\"\nHEAR x\nTALK \"still v1: \" & x\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let (st, v) = s.post("/api/bots/second/conversations", json!({}));
    assert_eq!(st, 404, "{v}");
    let (st, running) = s.post("/api/bots/first/conversations", json!({}));
    assert_eq!(st, 201, "{running}");

    // A new package, a new script of a loaded one, and an edit of the running dialog.
    bots.script("second", "start", "TALK \"hello from second\"\n");
    bots.script("first", "report", "RETURN 42\n");
    bots.script("first", "start", "TALK \"v2\"\nHEAR x\nTALK \"v2: \" & x\n");

    let talked = eventually(20.0, "the new package to be served", || {
        let (st, v) = s.post("/api/bots/second/conversations", json!({}));
        if st == 201 {
            Ok(v)
        } else {
            Err(format!("{st} {v}"))
        }
    });
    assert_eq!(texts(&talked), vec!["hello from second"]);
    let r = eventually(20.0, "the new script to be served", || {
        let (st, v) = s.post(
            "/api/workflows",
            json!({ "bot": "first", "script": "report", "input": {} }),
        );
        if st == 201 {
            Ok(v)
        } else {
            Err(format!("{st} {v}"))
        }
    });
    let id = r["id"].as_str().unwrap();
    let done = s.get(&format!("/api/workflows/{id}/result?timeout=20")).1;
    assert_eq!(done["result"], json!(42), "{done}");
    // The conversation started before the edit answers on its own version.
    let conv = running["id"].as_str().unwrap();
    let answer = s.say(conv, "ok");
    assert_eq!(texts(&answer), vec!["still v1: ok"]);
}
