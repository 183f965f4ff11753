//! A bot's config.csv is read by scripts (`GET CONFIG "name"`, journaled, NULL when the
//! bot has no such row), and a conversation with a bot that has no start.bas is a 404
//! that lists the scripts it has.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{BotDir, Server};
use serde_json::json;

#[test]
fn get_config_reads_the_bot_setting() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "shop",
        "start",
        "ORCHESTRATE WORKFLOW \"w\"\n  g = GET CONFIG \"greeting\"\n  WAIT 0.1\n  RETURN { greeting: g, missing: GET_CONFIG(\"nope\") IS NULL }\nEND WORKFLOW\n",
    );
    let dir = bots.path.join("shop.gbai").join("shop.gbot");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.csv"), "name,value\nGreeting,Hello there\n").unwrap();
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("shop", "start", json!({}));
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(
        r["result"],
        json!({ "greeting": "Hello there", "missing": true })
    );
}

#[test]
fn a_bot_without_start_lists_its_scripts() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("worker", "task", "RETURN 1\n");
    bots.script("worker", "refund-order", "RETURN 2\n");
    let s = Server::start(&db.url, &bots.path);
    let (st, v) = s.post("/api/bots/worker/conversations", json!({}));
    assert_eq!(st, 404, "{v}");
    let msg = v["message"].as_str().unwrap_or_default();
    assert!(msg.contains("refund-order") && msg.contains("task"), "{v}");
}
