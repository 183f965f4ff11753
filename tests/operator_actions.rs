//! The operator's routes against a real server: the list refuses unknown statuses and
//! pages with a cursor.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{BotDir, Server};
use serde_json::json;

fn start(s: &Server, bot: &str) -> String {
    let (st, v) = s.post(
        "/api/workflows",
        json!({ "bot": bot, "script": "start", "input": {} }),
    );
    assert_eq!(st, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

#[test]
fn list_refuses_unknown_status_and_pages_with_a_cursor() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("quick", "start", "RETURN 1\n");
    let s = Server::start(&db.url, &bots.path);
    let ids: Vec<String> = (0..5).map(|_| start(&s, "quick")).collect();

    let (code, v) = s.get("/api/workflows?status=bogus");
    assert_eq!(code, 400, "{v}");
    let msg = v["message"].as_str().unwrap();
    for allowed in ["running", "waiting", "completed", "failed", "cancelled"] {
        assert!(msg.contains(allowed), "{msg}");
    }
    let (code, v) = s.get("/api/workflows?after=not-a-uuid");
    assert_eq!(code, 400, "{v}");
    let (code, v) = s.get("/api/workflows?limit=0");
    assert_eq!(code, 400, "{v}");

    // Newest first, two at a time, following `next`.
    let mut seen = Vec::new();
    let mut path = "/api/workflows?limit=2".to_string();
    loop {
        let (code, page) = s.get(&path);
        assert_eq!(code, 200, "{page}");
        let rows = page["workflows"].as_array().unwrap();
        assert!(rows.len() <= 2, "{page}");
        seen.extend(rows.iter().map(|r| r["id"].as_str().unwrap().to_string()));
        match page["next"].as_str() {
            Some(next) => path = format!("/api/workflows?limit=2&after={next}"),
            None => break,
        }
        assert!(seen.len() <= 5, "paging does not end: {seen:?}");
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
    let (_, v) = s.get("/api/workflows?status=completed&limit=1000");
    assert_eq!(v["workflows"].as_array().unwrap().len(), 5);
}
