//! The API's edge under hostile input: every rejection must be a JSON error that names
//! what is wrong — text PostgreSQL cannot store (a NUL) is a 400 naming the field, never
//! a 503; bad query and path parameters, unknown routes, wrong methods and oversized
//! URIs, headers and bodies are never a text/plain or empty answer. A start repeated
//! with the same `Idempotency-Key` must not start a second workflow (after a restart,
//! and racing itself), and a conversation's id (its capability) must not be guessable
//! from its neighbour's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::db::TestDb;
use common::server::{BotDir, Server};
use serde_json::{json, Value};

/// An answer read off the wire, as it came.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts a JSON error `{error: kind, message}` with this status whose message
    /// mentions `mentions`; returns the message.
    fn assert_json_error(&self, what: &str, status: u16, kind: &str, mentions: &str) -> String {
        assert_eq!(
            self.status, status,
            "{what}: status {} (expected {status}), body {:?}",
            self.status, self.body
        );
        let ct = self.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("application/json"),
            "{what}: content-type {ct:?}, body {:?}",
            self.body
        );
        let v: Value = serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{what}: body is not JSON ({e}): {:?}", self.body));
        assert_eq!(v["error"], kind, "{what}: {v}");
        let message = v["message"].as_str().unwrap_or_default().to_string();
        assert!(
            message.contains(mentions),
            "{what}: the message should mention {mentions:?}: {v}"
        );
        message
    }
}

/// Sends one request exactly as given (a request line target, extra header lines, a
/// body) on a fresh connection and reads the whole answer.
fn raw(s: &Server, method: &str, target: &str, headers: &str, body: &[u8]) -> Raw {
    let addr = s.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    );
    // The server may answer (and close) before it has read everything: a failed write
    // is not the test's concern, the answer is.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).to_string();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{method} {target}: no HTTP answer: {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("{method} {target}: no status line: {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Raw {
        status,
        headers,
        body: body.to_string(),
    }
}

fn post_json(s: &Server, path: &str, body: &Value, headers: &str) -> Raw {
    raw(
        s,
        "POST",
        path,
        &format!("Content-Type: application/json\r\n{headers}"),
        body.to_string().as_bytes(),
    )
}

/// A bot with a dialog that echoes what it hears and a workflow that returns its input.
fn bots() -> BotDir {
    let bots = BotDir::new();
    bots.script("echo", "start", "HEAR text\nTALK \"you said \" + text\n")
        .script("echo", "wf", "STEP 1: x = n + 1\nRETURN x\n");
    bots
}

fn assert_no_error_logged(s: &Server) {
    let log = s.log_text();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(
        errors.is_empty(),
        "ERROR lines in the log:\n{}",
        errors.join("\n")
    );
}

#[test]
fn nul_in_any_text_is_a_400_naming_the_field() {
    let db = TestDb::new();
    let bots = bots();
    let s = Server::start(&db.url, &bots.path);
    let (conversation, _) = s.converse("echo");

    let cases: Vec<(&str, Raw, &str)> = vec![
        (
            "an event payload's value",
            post_json(
                &s,
                "/api/events",
                &json!({ "name": "e", "payload": { "a": "x\u{0}y" } }),
                "",
            ),
            "'payload.a'",
        ),
        (
            "an event payload's key",
            post_json(
                &s,
                "/api/events",
                &json!({ "name": "e", "payload": { "k\u{0}": 1 } }),
                "",
            ),
            "'payload'",
        ),
        (
            "workflow input",
            post_json(
                &s,
                "/api/workflows",
                &json!({ "bot": "echo", "script": "wf",
                         "input": { "items": [{}, {}, { "name": "a\u{0}" }] } }),
                "",
            ),
            "'input.items[2].name'",
        ),
        (
            "a conversation message (a public route)",
            post_json(
                &s,
                &format!("/api/conversations/{conversation}/messages"),
                &json!({ "text": "hi\u{0}" }),
                "",
            ),
            "'text'",
        ),
        (
            "an approval comment",
            post_json(
                &s,
                &format!("/api/approvals/{}", uuid::Uuid::new_v4()),
                &json!({ "decision": "approve", "comment": "\u{0}" }),
                "",
            ),
            "'comment'",
        ),
        (
            "a query parameter",
            raw(&s, "GET", "/api/workflows?status=%00", "", b""),
            "'status'",
        ),
        (
            "another query parameter",
            raw(&s, "GET", "/api/events?name=a%00", "", b""),
            "'name'",
        ),
        (
            "the schedules' filter",
            raw(&s, "GET", "/api/schedules?bot=%00", "", b""),
            "'bot'",
        ),
        (
            "a path parameter",
            raw(&s, "GET", "/api/bots/echo/memory/%00", "", b""),
            "'key'",
        ),
    ];
    for (what, answer, field) in &cases {
        let message = answer.assert_json_error(what, 400, "bad_request", field);
        assert!(message.contains("NUL"), "{what}: {message}");
    }

    // Nothing of it reached the database, and the conversation is still usable.
    assert_eq!(db.count("SELECT count(*) AS n FROM workflow_events"), 0);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE kind = 'workflow'"),
        0
    );
    let reply = s.say(&conversation, "hi");
    assert_eq!(reply["messages"], json!(["you said hi"]), "{reply}");
    assert_no_error_logged(&s);
}

#[test]
fn query_and_path_rejections_are_json() {
    let db = TestDb::new();
    let bots = bots();
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("echo", "wf", json!({ "n": 1 }));
    let cases = [
        ("/api/workflows?limit=abc", "limit"),
        ("/api/workflows?limit=99999999999999999999", "limit"),
        ("/api/workflows?status=a&status=b", "status"),
        (
            &format!("/api/workflows/{id}/result?timeout=abc"),
            "timeout",
        ),
        ("/api/workflows/%FF", "UTF-8 in `id`"),
        ("/api/workflows/%FF/result", "UTF-8 in `id`"),
        ("/api/approvals?limit=many", "limit"),
        ("/api/events?after=yesterday", "after"),
        ("/api/bots/echo/tables/t?offset=-", "offset"),
        ("/api/conversations/%FF", "UTF-8 in `id`"),
        ("/api/schedules?bot=a&bot=b", "bot"),
    ];
    for (target, field) in cases {
        raw(&s, "GET", target, "", b"").assert_json_error(target, 400, "bad_request", field);
    }
    // A retry's optional body is read by the same rules.
    raw(
        &s,
        "POST",
        &format!("/api/workflows/{id}/retry"),
        "",
        b"{\"version\": 1",
    )
    .assert_json_error("retry with broken JSON", 400, "bad_request", "JSON");
    assert_no_error_logged(&s);
}

#[test]
fn unknown_routes_and_wrong_methods_are_json() {
    let db = TestDb::new();
    let bots = bots();
    let s = Server::start(&db.url, &bots.path);
    raw(&s, "GET", "/no/such/route", "", b"").assert_json_error(
        "unknown route",
        404,
        "not_found",
        "/no/such/route",
    );
    let r = raw(&s, "DELETE", "/api/workflows", "", b"");
    r.assert_json_error("DELETE /api/workflows", 405, "method_not_allowed", "DELETE");
    let allow = r.header("allow").unwrap_or_default().to_string();
    assert!(
        allow.contains("GET") && allow.contains("POST"),
        "Allow: {allow:?}"
    );
    raw(&s, "PUT", "/health", "", b"").assert_json_error(
        "PUT /health",
        405,
        "method_not_allowed",
        "PUT",
    );
    raw(&s, "GET", "/api/events/x", "", b"").assert_json_error(
        "an unknown route under /api",
        404,
        "not_found",
        "/api/events/x",
    );
}

#[test]
fn oversized_uris_headers_and_bodies_are_json() {
    let db = TestDb::new();
    let bots = bots();
    let s = Server::start(&db.url, &bots.path);
    let long = "a".repeat(20 * 1024);
    raw(&s, "GET", &format!("/api/workflows?name={long}"), "", b"").assert_json_error(
        "a 20 KiB URI",
        414,
        "uri_too_long",
        "8192",
    );
    raw(&s, "GET", &format!("/{long}"), "", b"").assert_json_error(
        "a 20 KiB path",
        414,
        "uri_too_long",
        "8192",
    );
    let big = format!("X-Big: {}\r\n", "b".repeat(100 * 1024));
    raw(&s, "GET", "/health", &big, b"").assert_json_error(
        "a 100 KiB header",
        431,
        "headers_too_large",
        "bytes",
    );
    let many: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    raw(&s, "GET", "/health", &many, b"").assert_json_error(
        "150 headers",
        431,
        "headers_too_large",
        "headers",
    );
    let body = json!({ "name": "e", "payload": { "p": "x".repeat(2 << 20) } });
    post_json(&s, "/api/events", &body, "").assert_json_error(
        "a 2 MiB body",
        413,
        "too_large",
        "too large",
    );
    // Within the limits all is as usual.
    let ok = raw(
        &s,
        "GET",
        "/health",
        &format!("X-Fine: {}\r\n", "c".repeat(4000)),
        b"",
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_no_error_logged(&s);
}

fn start_with_key(s: &Server, key: &str, input: Value) -> Raw {
    post_json(
        s,
        "/api/workflows",
        &json!({ "bot": "echo", "script": "wf", "input": input }),
        &format!("Idempotency-Key: {key}\r\n"),
    )
}

fn id_of(r: &Raw) -> String {
    let v: Value = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body));
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {v}"))
        .to_string()
}

#[test]
fn a_start_repeated_with_the_same_idempotency_key_is_the_same_workflow() {
    let db = TestDb::new();
    let bots = bots();
    let s = Server::start(&db.url, &bots.path);
    let first = start_with_key(&s, "order-42", json!({ "n": 1 }));
    assert_eq!(first.status, 201, "{}", first.body);
    let id = id_of(&first);
    let again = start_with_key(&s, "order-42", json!({ "n": 1 }));
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(id_of(&again), id);
    assert_eq!(s.workflow_result(&id)["result"], json!(2));

    // The same key with another body is refused and starts nothing.
    start_with_key(&s, "order-42", json!({ "n": 2 })).assert_json_error(
        "the key with another body",
        422,
        "idempotency_key_reused",
        "order-42",
    );
    // Keys must be usable text.
    start_with_key(&s, &"k".repeat(300), json!({ "n": 1 })).assert_json_error(
        "a 300-character key",
        400,
        "bad_request",
        "Idempotency-Key",
    );

    // After a restart the key still names the same workflow.
    s.kill();
    let s = Server::start(&db.url, &bots.path);
    let after = start_with_key(&s, "order-42", json!({ "n": 1 }));
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(id_of(&after), id);

    // Eight clients racing with one key get one workflow.
    let ids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| start_with_key(&s, "race", json!({ "n": 5 }))))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                let r = h.join().unwrap();
                assert!(
                    r.status == 200 || r.status == 201,
                    "{} {}",
                    r.status,
                    r.body
                );
                id_of(&r)
            })
            .collect()
    });
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    assert_eq!(s.workflow_result(&ids[0])["result"], json!(6));
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE kind = 'workflow'"),
        2
    );
    // Without the header every start is a new workflow, as before.
    let a = s.start_workflow("echo", "wf", json!({ "n": 1 }));
    let b = s.start_workflow("echo", "wf", json!({ "n": 1 }));
    assert_ne!(a, b);
    assert_no_error_logged(&s);
}

/// The hex digits two ids share at their start.
fn shared_prefix(a: &str, b: &str) -> usize {
    a.chars()
        .filter(|c| *c != '-')
        .zip(b.chars().filter(|c| *c != '-'))
        .take_while(|(x, y)| x == y)
        .count()
}

#[test]
fn conversation_ids_are_random_v4() {
    let db = TestDb::new();
    let bots = bots();
    let s = Server::start(&db.url, &bots.path);
    let (a, _) = s.converse("echo");
    let (b, _) = s.converse("echo");
    for id in [&a, &b] {
        let parsed = uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(
            parsed.get_version_num(),
            4,
            "{id} is not a random (v4) UUID"
        );
    }
    // Two UUID v7 made in a row share their first 8–11 hex digits (the time); random
    // ones share 6 with a chance of 1 in 16 million.
    assert!(
        shared_prefix(&a, &b) < 6,
        "{a} and {b} share a prefix of {} hex digits",
        shared_prefix(&a, &b)
    );
    // The ids still work as the conversations' capabilities.
    assert_eq!(s.say(&a, "one")["messages"], json!(["you said one"]));
    assert_eq!(s.say(&b, "two")["messages"], json!(["you said two"]));
}

#[test]
fn a_keyed_start_that_started_nothing_starts_its_workflow_on_a_retry() {
    let db = TestDb::new();
    let bots = bots();
    let s = Server::start(&db.url, &bots.path);
    let late = || {
        post_json(
            &s,
            "/api/workflows",
            &json!({ "bot": "echo", "script": "late", "input": { "n": 10 } }),
            "Idempotency-Key: late-1\r\n",
        )
    };
    // No such script yet: the key is bound to an id, but no workflow has it.
    late().assert_json_error("a start of a missing script", 404, "not_found", "late");
    let bound = db.count("SELECT count(*) AS n FROM workflow_start_keys WHERE key = 'late-1'");
    assert_eq!(bound, 1);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE kind = 'workflow'"),
        0
    );
    // Once the script is there (packages are reloaded while serving), the retry starts
    // the workflow under the id the key was bound to, once.
    bots.script("echo", "late", "RETURN n * 2\n");
    let started = common::server::eventually(20.0, "the late script is loaded", || {
        let r = late();
        if r.status == 201 {
            Ok(r)
        } else {
            Err(format!("{} {}", r.status, r.body))
        }
    });
    let id = id_of(&started);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM workflow_start_keys WHERE key = 'late-1' AND execution_id = '{id}'"
        )),
        1
    );
    assert_eq!(s.workflow_result(&id)["result"], json!(20));
    let again = late();
    assert_eq!((again.status, id_of(&again)), (200, id));
}

/// Reads one answer off a keep-alive connection (its head, then `Content-Length` bytes).
fn read_answer(stream: &mut TcpStream) -> (u16, String) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("reading an answer's head");
        assert_eq!(n, 1, "the connection closed in an answer's head: {head:?}");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status: {head:?}"));
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream
        .read_exact(&mut body)
        .expect("reading an answer's body");
    (status, String::from_utf8_lossy(&body).to_string())
}

#[test]
fn a_body_sent_after_its_head_to_a_route_that_takes_none_keeps_the_connection() {
    // Starting a conversation and cancelling a workflow take no body; a client that sends
    // `{}` anyway, in a second packet after the head, must keep its connection.
    let db = TestDb::new();
    let bots = bots();
    bots.script("echo", "waits", "WAIT FOR EVENT never\nRETURN 1\n");
    let s = Server::start(&db.url, &bots.path);
    let (st, wf) = s.post(
        "/api/workflows",
        json!({ "bot": "echo", "script": "waits", "input": {} }),
    );
    assert!(st == 201 || st == 202, "{st}: {wf}");
    let wf_id = wf["id"].as_str().expect("a workflow id").to_string();
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let calls = [
        ("/api/bots/echo/conversations".to_string(), 201),
        (format!("/api/workflows/{wf_id}/cancel"), 200),
        ("/api/bots/echo/conversations".to_string(), 201),
    ];
    for (i, (path, want)) in calls.iter().enumerate() {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        stream
            .write_all(b"{}")
            .unwrap_or_else(|e| panic!("call {i} ({path}): the connection was closed: {e}"));
        let (status, body) = read_answer(&mut stream);
        assert_eq!(status, *want, "call {i} ({path}): {body}");
    }
    stream
        .write_all(format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .unwrap();
    let (status, body) = read_answer(&mut stream);
    assert_eq!(status, 200, "{body}");
    assert_no_error_logged(&s);
}
