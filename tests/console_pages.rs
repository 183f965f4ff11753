//! The console's pages over plain HTTP (no browser): every page renders, the list pages
//! and filters right at the database, a page needs a session when an admin token is set,
//! every form needs the page's CSRF token, batch actions act on each selected workflow,
//! and an approver's link decides its own request only. What it tries to break: access
//! control and "a form changes something only when the console sent it".

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::db::TestDb;
use common::server::{eventually, BotDir, Options, Server};
use serde_json::json;

const ADMIN: &str = "pages-admin-token";

/// A response: status, `Location`, `Set-Cookie`, body.
struct Resp {
    status: u16,
    location: String,
    cookie: String,
    body: String,
}

/// One request without following redirects; `form` is sent urlencoded.
fn call(
    s: &Server,
    method: &str,
    path: &str,
    form: Option<&[(&str, &str)]>,
    cookie: Option<&str>,
    hx: bool,
) -> Resp {
    let agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(30))
        .build();
    let mut req = agent.request(method, &format!("{}{}", s.base, path));
    if let Some(c) = cookie {
        req = req.set("Cookie", c);
    }
    if hx {
        req = req.set("HX-Request", "true");
    }
    let resp = match form {
        Some(pairs) => req.send_form(pairs),
        None => req.call(),
    };
    let resp = match resp {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    Resp {
        status: resp.status(),
        location: resp.header("location").unwrap_or("").to_string(),
        cookie: resp.header("set-cookie").unwrap_or("").to_string(),
        body: resp.into_string().unwrap_or_default(),
    }
}

fn get(s: &Server, path: &str, cookie: Option<&str>) -> Resp {
    call(s, "GET", path, None, cookie, false)
}

/// The value of the first `<input name="csrf" value="…">` of a page.
fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("no csrf field in the page");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// A server with the admin token.
fn guarded(db: &TestDb, bots: &BotDir) -> Server {
    Server::start_with(
        &db.url,
        &bots.path,
        Options {
            admin_token: Some(ADMIN.into()),
            ..Default::default()
        },
    )
}

/// Logs in through the form; the session cookie (`name=value`).
fn login(s: &Server) -> String {
    let form = get(s, "/login", None);
    let ok = call(
        s,
        "POST",
        "/login",
        Some(&[("csrf", &csrf_of(&form.body)), ("token", ADMIN)]),
        None,
        false,
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    ok.cookie.split(';').next().unwrap().to_string()
}

fn support_workflow(s: &Server, amount: i64, token: Option<&str>) -> String {
    let (st, v) = s.request(
        "POST",
        "/api/workflows",
        Some(json!({"bot": "customer-support-workflow", "script": "start", "input": {"order_amount": amount}}).to_string()),
        token,
    );
    assert_eq!(st, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

fn status_of(s: &Server, id: &str, token: Option<&str>) -> String {
    let (_, d) = s.request("GET", &format!("/api/workflows/{id}"), None, token);
    d["status"].as_str().unwrap_or("").to_string()
}

fn wait_status(s: &Server, id: &str, want: &str, token: Option<&str>) {
    eventually(20.0, &format!("{id} to be {want}"), || {
        let st = status_of(s, id, token);
        if st == want {
            Ok(())
        } else {
            Err(format!("status {st}"))
        }
    });
}

#[test]
fn every_page_renders_in_development_mode() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = Server::start(&db.url, &bots.path);
    let wf = support_workflow(&s, 150, None);
    wait_status(&s, &wf, "waiting", None);
    let (conv, _) = s.converse("support");

    let list = get(&s, "/workflows", None);
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body.contains(&format!("data-id=\"{wf}\"")),
        "{}",
        list.body
    );
    let detail = get(&s, &format!("/workflows/{wf}"), None);
    assert_eq!(detail.status, 200);
    assert!(
        detail.body.contains("approval by manager@company.com"),
        "{}",
        detail.body
    );
    assert!(
        detail.body.contains("sse-connect=\"/workflows/"),
        "no live stream on the detail page"
    );
    // The part the live stream refreshes comes alone to htmx.
    let part = call(
        &s,
        "GET",
        &format!("/workflows/{wf}?part=live"),
        None,
        None,
        true,
    );
    assert_eq!(part.status, 200);
    assert!(!part.body.contains("<html"), "the part is a whole page");
    assert!(part.body.contains("id=\"status\""), "{}", part.body);
    for (path, needle) in [
        ("/", "Workflows by status"),
        ("/approvals", "manager@company.com"),
        ("/events", "approval_requested"),
        ("/bots", "customer-support-workflow"),
        ("/bots/customer-support-workflow", "start.bas"),
        (&format!("/conversations/{conv}") as &str, "support"),
        ("/workflows?status=waiting", &wf as &str),
        ("/login", "development mode"),
    ] {
        let r = get(&s, path, None);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(
            r.body.contains(needle),
            "{path} lacks {needle:?}:\n{}",
            r.body
        );
    }
    let css = get(&s, "/assets/console.css", None);
    assert_eq!(css.status, 200);
    let htmx = get(&s, "/assets/htmx-2.0.11.min.js", None);
    assert_eq!(htmx.status, 200);
    assert!(htmx.body.len() > 10_000);

    // Bad input is a page naming the problem, never a 500.
    let r = get(&s, "/workflows?status=sleeping", None);
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("&#39;status&#39; must be one of"),
        "{}",
        r.body
    );
    let r = get(&s, "/workflows/0190b6b4-0000-7000-8000-000000000000", None);
    assert_eq!(r.status, 404);
    assert!(r.body.contains("no workflow"), "{}", r.body);
    let r = get(&s, "/workflows?since=yesterday", None);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("&#39;since&#39;"), "{}", r.body);
    let r = get(&s, "/bots/nobody", None);
    assert_eq!(r.status, 404);
    let r = get(&s, "/workflows?name=%00", None);
    assert_eq!(r.status, 400, "{}", r.body);
    // An id in the search box opens the workflow.
    let r = get(&s, &format!("/workflows?q={wf}"), None);
    assert_eq!(r.status, 303);
    assert_eq!(r.location, format!("/workflows/{wf}"));
}

#[test]
fn the_list_pages_and_filters_at_the_database() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "quick",
        "start",
        "ORCHESTRATE WORKFLOW \"quick\"\n  STEP 1: x = 1\n  RETURN x\nEND WORKFLOW\n",
    );
    bots.script(
        "other",
        "start",
        "ORCHESTRATE WORKFLOW \"other\"\n  STEP 1: x = 2\n  RETURN x\nEND WORKFLOW\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let mut made = Vec::new();
    for i in 0..120 {
        made.push(s.start_workflow(
            if i % 4 == 0 { "other" } else { "quick" },
            "start",
            json!({}),
        ));
    }
    for id in &made {
        wait_status(&s, id, "completed", None);
    }
    // Walk the pages from the newest: every workflow once, newest first.
    let mut seen = Vec::new();
    let mut path = "/workflows".to_string();
    let mut pages = 0;
    let mut second_page = String::new();
    loop {
        let r = get(&s, &path, None);
        assert_eq!(r.status, 200, "{}", r.body);
        for part in r.body.split("data-id=\"").skip(1) {
            seen.push(part[..36].to_string());
        }
        pages += 1;
        if pages == 2 {
            second_page = r.body.clone();
        }
        match r.body.find("rel=\"next\"") {
            Some(at) => {
                let head = &r.body[..at];
                let href = &head[head.rfind("href=\"").unwrap() + 6..];
                path = href[..href.find('"').unwrap()].replace("&amp;", "&");
            }
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3, "120 workflows are three pages of 50");
    let mut newest_first = made.clone();
    newest_first.reverse();
    assert_eq!(
        seen, newest_first,
        "pages skip, repeat or misorder workflows"
    );
    // Back from the second page is the first page again.
    let at = second_page
        .find("rel=\"prev\"")
        .expect("the second page has no link back");
    let head = &second_page[..at];
    let href = &head[head.rfind("href=\"").unwrap() + 6..];
    let back = get(
        &s,
        &href[..href.find('"').unwrap()].replace("&amp;", "&"),
        None,
    );
    let first: Vec<String> = back
        .body
        .split("data-id=\"")
        .skip(1)
        .map(|p| p[..36].to_string())
        .collect();
    assert_eq!(first, newest_first[..50].to_vec());

    // Filters: by bot, by name, by status, by time.
    let r = get(&s, "/workflows?bot=other", None);
    let others: HashSet<String> = r
        .body
        .split("data-id=\"")
        .skip(1)
        .map(|p| p[..36].to_string())
        .collect();
    let expected: HashSet<String> = made.iter().step_by(4).cloned().collect();
    assert_eq!(others, expected);
    let r = get(&s, "/workflows?name=quick&status=completed", None);
    assert_eq!(r.body.matches("data-id=\"").count(), 50);
    let r = get(&s, "/workflows?status=failed", None);
    assert_eq!(r.body.matches("data-id=\"").count(), 0);
    let r = get(&s, "/workflows?since=2999-01-01T00:00", None);
    assert_eq!(r.body.matches("data-id=\"").count(), 0);
    let r = get(&s, "/workflows?until=2999-01-01T00:00&bot=other", None);
    assert_eq!(r.body.matches("data-id=\"").count(), 30);
}

#[test]
fn the_console_needs_a_session_when_an_admin_token_is_set() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = guarded(&db, &bots);

    let r = get(&s, "/workflows?status=waiting", None);
    assert_eq!(r.status, 303);
    assert_eq!(r.location, "/login?next=%2Fworkflows%3Fstatus%3Dwaiting");
    let form = get(&s, "/login", None);
    assert_eq!(form.status, 200);
    let csrf = csrf_of(&form.body);

    let wrong = call(
        &s,
        "POST",
        "/login",
        Some(&[("csrf", &csrf), ("token", "guess"), ("next", "/workflows")]),
        None,
        false,
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.cookie.is_empty(), "a wrong token got a cookie");
    let bare = call(&s, "POST", "/login", Some(&[("token", ADMIN)]), None, false);
    assert_eq!(
        bare.status, 403,
        "a login without CSRF token: {}",
        bare.body
    );

    let ok = call(
        &s,
        "POST",
        "/login",
        Some(&[("csrf", &csrf), ("token", ADMIN), ("next", "/workflows")]),
        None,
        false,
    );
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location, "/workflows");
    assert!(
        ok.cookie.contains("HttpOnly") && ok.cookie.contains("SameSite=Strict"),
        "{}",
        ok.cookie
    );
    let cookie = ok.cookie.split(';').next().unwrap().to_string();
    let page = get(&s, "/workflows", Some(&cookie));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Log out"));

    // A forged or altered cookie is no session.
    let forged = format!("{}0", &cookie[..cookie.len() - 1]);
    let forged = if forged == cookie {
        format!("{}1", &cookie[..cookie.len() - 1])
    } else {
        forged
    };
    assert_eq!(get(&s, "/workflows", Some(&forged)).status, 303);
    assert_eq!(
        get(&s, "/workflows", Some("botserver_session=v1.1.00")).status,
        303
    );
    // The admin token as a bearer also opens the pages; the API is unchanged.
    let (st, _) = s.get_auth("/api/workflows", ADMIN);
    assert_eq!(st, 200);
    let (st, _) = s.get("/api/workflows");
    assert_eq!(st, 401);
    // Logging out clears the cookie.
    let out = call(
        &s,
        "POST",
        "/logout",
        Some(&[("csrf", &csrf_of(&page.body))]),
        Some(&cookie),
        false,
    );
    assert_eq!(out.status, 303);
    assert!(out.cookie.contains("Max-Age=0"), "{}", out.cookie);
}

#[test]
fn forms_need_the_pages_csrf_token() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = guarded(&db, &bots);
    let cookie = login(&s);
    let wf = support_workflow(&s, 150, Some(ADMIN));
    wait_status(&s, &wf, "waiting", Some(ADMIN));
    let page = get(&s, &format!("/workflows/{wf}"), Some(&cookie));
    let csrf = csrf_of(&page.body);
    let cancel = format!("/workflows/{wf}/cancel");

    let r = call(
        &s,
        "POST",
        &cancel,
        Some(&[("confirm", "yes")]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = call(
        &s,
        "POST",
        &cancel,
        Some(&[("confirm", "yes"), ("csrf", &"0".repeat(64))]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 403);
    // No session at all: refused before the token is looked at.
    let r = call(
        &s,
        "POST",
        &cancel,
        Some(&[("confirm", "yes"), ("csrf", &csrf)]),
        None,
        false,
    );
    assert_eq!(r.status, 401);
    // An approval decision and a publish without the token change nothing either.
    let (_, a) = s.get_auth(&format!("/api/approvals?workflow={wf}"), ADMIN);
    let approval = a["approvals"][0]["id"].as_str().unwrap().to_string();
    let r = call(
        &s,
        "POST",
        &format!("/approvals/{approval}/decide"),
        Some(&[("decision", "approve")]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 403);
    let r = call(
        &s,
        "POST",
        "/events/publish",
        Some(&[("name", "forged")]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 403);
    let r = call(
        &s,
        "POST",
        "/bots/support/pause",
        Some(&[]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 403);
    assert_eq!(status_of(&s, &wf, Some(ADMIN)), "waiting");
    let (_, evs) = s.get_auth("/api/events?name=forged", ADMIN);
    assert_eq!(evs["events"].as_array().unwrap().len(), 0);

    // With the page's token: a cancel without the confirmation box is refused, with it done.
    let r = call(
        &s,
        "POST",
        &cancel,
        Some(&[("csrf", &csrf)]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("confirm"), "{}", r.body);
    let r = call(
        &s,
        "POST",
        &cancel,
        Some(&[("csrf", &csrf), ("confirm", "yes")]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(status_of(&s, &wf, Some(ADMIN)), "cancelled");
    // Publishing with the token works, and the event page shows it.
    let r = call(
        &s,
        "POST",
        "/events/publish",
        Some(&[
            ("csrf", &csrf),
            ("name", "from_console"),
            ("payload", "{\"a\": 1}"),
        ]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let r = call(
        &s,
        "POST",
        "/events/publish",
        Some(&[("csrf", &csrf), ("name", "bad"), ("payload", "{nope")]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("not JSON"), "{}", r.body);
    let page = get(&s, "/events", Some(&cookie));
    assert!(page.body.contains("from_console"));
}

#[test]
fn batch_actions_act_on_each_selected_workflow() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    bots.script("broken", "task", "x = 1 / 0\n");
    bots.script("fails", "start", "ORCHESTRATE WORKFLOW \"fails\"\n  STEP 1: BOT \"broken\" \"work\"\n  RETURN step1\nEND WORKFLOW\n");
    let s = Server::start(&db.url, &bots.path);
    let waiting: Vec<String> = (0..3).map(|_| support_workflow(&s, 150, None)).collect();
    for id in &waiting {
        wait_status(&s, id, "waiting", None);
    }
    let failed = s.start_workflow("fails", "start", json!({}));
    wait_status(&s, &failed, "failed", None);
    let csrf = csrf_of(&get(&s, "/workflows", None).body);

    let mut form: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("action", "cancel"),
        ("back", "/workflows"),
    ];
    for id in &waiting {
        form.push(("id", id));
    }
    let r = call(&s, "POST", "/workflows/actions", Some(&form), None, false);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        r.location.starts_with("/workflows?notice=3+cancelled."),
        "{}",
        r.location
    );
    for id in &waiting {
        assert_eq!(status_of(&s, id, None), "cancelled");
    }
    // Retry: the failed one runs again, the cancelled one is refused and named.
    let form = vec![
        ("csrf", csrf.as_str()),
        ("action", "retry"),
        ("id", failed.as_str()),
        ("id", waiting[0].as_str()),
    ];
    let r = call(&s, "POST", "/workflows/actions", Some(&form), None, false);
    assert_eq!(r.status, 303);
    let notice = r.location.replace('+', " ");
    assert!(
        notice.contains("1 retried") && notice.contains("1 refused"),
        "{notice}"
    );
    let page = get(&s, &r.location, None);
    assert!(page.body.contains("1 retried."), "the notice is not shown");
    let r = call(
        &s,
        "POST",
        "/workflows/actions",
        Some(&[("csrf", &csrf), ("action", "explode"), ("id", &failed)]),
        None,
        false,
    );
    assert_eq!(r.status, 400);
}

#[test]
fn an_approvers_link_decides_its_own_request_only() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = guarded(&db, &bots);
    let a = support_workflow(&s, 150, Some(ADMIN));
    let b = support_workflow(&s, 160, Some(ADMIN));
    let (ida, toka) = s.approval_of(&a, Some(ADMIN));
    let (idb, tokb) = s.approval_of(&b, Some(ADMIN));

    let page = get(&s, &format!("/approve/{ida}?token={toka}"), None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        !page.body.contains(&idb) && !page.body.contains(&b),
        "the page shows another request"
    );
    assert!(
        !page.body.contains("href=\"/workflows"),
        "the page links into the console"
    );
    // A's token on B's request: refused, as is no token and a wrong one.
    assert_eq!(
        get(&s, &format!("/approve/{idb}?token={toka}"), None).status,
        403
    );
    assert_eq!(get(&s, &format!("/approve/{idb}"), None).status, 403);
    assert_eq!(
        get(&s, &format!("/approve/{idb}?token={tokb}x"), None).status,
        403
    );
    let csrf = csrf_of(&page.body);
    let r = call(
        &s,
        "POST",
        &format!("/approve/{idb}"),
        Some(&[("csrf", &csrf), ("token", &toka), ("decision", "approve")]),
        None,
        false,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = call(
        &s,
        "POST",
        &format!("/approve/{ida}"),
        Some(&[("token", &toka), ("decision", "approve")]),
        None,
        false,
    );
    assert_eq!(r.status, 403, "a decision without CSRF token: {}", r.body);
    let r = call(
        &s,
        "POST",
        &format!("/approve/{ida}"),
        Some(&[
            ("csrf", &csrf),
            ("token", &toka),
            ("decision", "reject"),
            ("comment", "too much"),
        ]),
        None,
        false,
    );
    assert_eq!(r.status, 303, "{}", r.body);
    wait_status(&s, &a, "completed", Some(ADMIN));
    let (_, x) = s.get_auth(&format!("/api/approvals?workflow={a}"), ADMIN);
    assert_eq!(x["approvals"][0]["status"], "rejected");
    assert_eq!(x["approvals"][0]["decided_by"], "manager@company.com");
    assert_eq!(x["approvals"][0]["comment"], "too much");
    let (_, y) = s.get_auth(&format!("/api/approvals?workflow={b}"), ADMIN);
    assert_eq!(y["approvals"][0]["status"], "pending");
    // Deciding twice is a clear conflict, and the page says it is decided.
    let again = call(
        &s,
        "POST",
        &format!("/approve/{ida}"),
        Some(&[("csrf", &csrf), ("token", &toka), ("decision", "approve")]),
        None,
        false,
    );
    assert_eq!(again.status, 409, "{}", again.body);
    let page = get(&s, &format!("/approve/{ida}?token={toka}"), None);
    assert!(page.body.contains("no longer waiting"), "{}", page.body);
}

#[test]
fn the_event_stream_brings_each_new_event_to_an_open_page() {
    use std::io::{BufRead, BufReader};
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = Server::start(&db.url, &bots.path);
    let page = get(&s, "/events?name=stream_test", None);
    let at = page
        .body
        .find("after=")
        .expect("no stream cursor in the page");
    let cursor: String = page.body[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let agent = ureq::AgentBuilder::new()
        .timeout_read(Duration::from_secs(20))
        .build();
    let resp = agent
        .get(&format!(
            "{}/events/live?name=stream_test&after={cursor}",
            s.base
        ))
        .call()
        .unwrap();
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    let mut lines = BufReader::new(resp.into_reader()).lines();
    let (st, _) = s.post("/api/events", json!({"name": "other_name", "payload": {}}));
    assert_eq!(st, 201);
    let (st, _) = s.post(
        "/api/events",
        json!({"name": "stream_test", "payload": {"n": 7}}),
    );
    assert_eq!(st, 201);
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("data:") && line.contains("<tr") {
            seen.push(line);
            break;
        }
        assert!(
            !line.contains("other_name"),
            "the stream ignored its name filter: {line}"
        );
    }
    assert!(
        seen[0].contains("stream_test") && seen[0].contains("&#34;n&#34;:7"),
        "{seen:?}"
    );
}

/// A JSON post to a designer route with the session and (when given) the page's token.
fn designer_json(
    s: &Server,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut req = ureq::post(&format!("{}{}", s.base, path)).set("Cookie", cookie);
    if let Some(t) = csrf {
        req = req.set("x-csrf-token", t);
    }
    let resp = match req.send_json(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("POST {path}: {e}"),
    };
    let status = resp.status();
    (status, resp.into_json().unwrap_or(serde_json::Value::Null))
}

#[test]
fn the_designer_checks_reviews_and_saves_its_text_as_forms_and_as_json() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = guarded(&db, &bots);
    let cookie = login(&s);
    let file = bots
        .path
        .join("customer-support-workflow.gbai/customer-support-workflow.gbdialog/start.bas");
    let original = std::fs::read_to_string(&file).unwrap();
    let page_path = "/designer/customer-support-workflow/start";
    let page = get(&s, page_path, Some(&cookie));
    assert_eq!(page.status, 200, "{}", page.body);
    for part in [
        "<textarea name=\"source\"",
        "data-drop=\"after:",
        "class=\"palette-item\"",
        "Review and save",
    ] {
        assert!(page.body.contains(part), "the editing page has no {part}");
    }
    let csrf = csrf_of(&page.body);
    let base = {
        let at = page.body.find("id=\"base\" value=\"").unwrap() + "id=\"base\" value=\"".len();
        page.body[at..at + 64].to_string()
    };
    let step_one = "  STEP 1: BOT \"classifier\" \"analyze complaint\"\n";
    let with = |approver: &str| {
        original.replacen(
            step_one,
            &format!("{step_one}  STEP 6: HUMAN APPROVAL FROM \"{approver}\"\n"),
            1,
        )
    };
    let (empty, good) = (with(""), with("ops@example.com"));
    assert_ne!(empty, original);

    // Check: the text's diagnostics on its node and line; nothing written.
    let r = call(
        &s,
        "POST",
        page_path,
        Some(&[
            ("csrf", &csrf),
            ("base", &base),
            ("source", &empty),
            ("action", "check"),
        ]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("names nobody"),
        "no diagnostic for the empty approver"
    );
    assert!(
        r.body.contains("diag-error") && r.body.contains("d-error"),
        "the error is not on its line and node"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);

    // Review: the diff is the one inserted line; the executions on the version on disk.
    let r = call(
        &s,
        "POST",
        page_path,
        Some(&[
            ("csrf", &csrf),
            ("base", &base),
            ("source", &good),
            ("action", "review"),
        ]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body.matches("class=\"diff-add\"").count(),
        1,
        "{}",
        r.body
    );
    assert_eq!(r.body.matches("class=\"diff-del\"").count(), 0);
    assert!(
        r.body.contains("0 execution(s) run on the version on disk"),
        "{}",
        r.body
    );

    // Saving a text with errors is refused and the text stays on the page.
    let r = call(
        &s,
        "POST",
        page_path,
        Some(&[
            ("csrf", &csrf),
            ("base", &base),
            ("source", &empty),
            ("action", "save"),
        ]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("has errors and is not saved"), "{}", r.body);
    assert!(
        r.body.contains("HUMAN APPROVAL FROM &quot;&quot;")
            || r.body.contains("HUMAN APPROVAL FROM &#34;&#34;"),
        "the text is lost"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);

    // Without the page's token a save is refused.
    let r = call(
        &s,
        "POST",
        page_path,
        Some(&[("base", &base), ("source", &good), ("action", "save")]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 403, "{}", r.body);

    // A browser sends CRLF; the file keeps its LF endings.
    let crlf = good.replace('\n', "\r\n");
    let r = call(
        &s,
        "POST",
        page_path,
        Some(&[
            ("csrf", &csrf),
            ("base", &base),
            ("source", &crlf),
            ("action", "save"),
        ]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        r.location.starts_with(&format!("{page_path}?notice=Saved")),
        "{}",
        r.location
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), good);
    let after = get(&s, &r.location, Some(&cookie));
    assert!(
        after
            .body
            .contains("Saved. New executions start on this version."),
        "{}",
        after.body
    );

    // The old base is now a conflict: 409, the text kept, the file as saved.
    let again = with("late@example.com");
    let r = call(
        &s,
        "POST",
        page_path,
        Some(&[
            ("csrf", &csrf),
            ("base", &base),
            ("source", &again),
            ("action", "save"),
        ]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body.contains("late@example.com") && r.body.contains("changed on disk"),
        "{}",
        r.body
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), good);

    // The JSON routes the page's script uses need the token in x-csrf-token.
    let preview = format!("{page_path}/preview");
    let (st, v) = designer_json(
        &s,
        &preview,
        &cookie,
        None,
        json!({"source": good, "edits": []}),
    );
    assert_eq!(st, 403, "{v}");
    let (st, v) = designer_json(
        &s,
        &preview,
        &cookie,
        Some("0"),
        json!({"source": good, "edits": []}),
    );
    assert_eq!(st, 403, "{v}");
    let (st, v) = designer_json(
        &s,
        &preview,
        &cookie,
        Some(&csrf),
        json!({"source": good, "edits": []}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["source"], good.as_str());
    assert_eq!(v["errors"], 0, "{v}");
    assert!(v["svg"].as_str().unwrap().contains("<svg"), "{v}");
    assert_eq!(
        v["line_nodes"].as_array().unwrap().len(),
        good.lines().count()
    );
    // An edit on the text: the approver emptied shows its error; a bad edit is a 400.
    let node = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["detail"]["approver"] == "ops@example.com")
        .unwrap()["id"]
        .clone();
    let (st, v) = designer_json(
        &s,
        &preview,
        &cookie,
        Some(&csrf),
        json!({"source": good, "edits": [{"op": "set", "node": node, "field": "approver", "value": ""}]}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["source"], empty.as_str());
    assert_eq!(v["errors"], 1, "{v}");
    let (st, v) = designer_json(
        &s,
        &preview,
        &cookie,
        Some(&csrf),
        json!({"source": good, "edits": [{"op": "delete", "node": "n999"}]}),
    );
    assert_eq!(st, 400, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("no node 'n999'"),
        "{v}"
    );
    // Review and save over JSON: the saved version is the base now.
    let saved_hash = botserver::basic::content_hash(&good);
    let (st, v) = designer_json(
        &s,
        &format!("{page_path}/review"),
        &cookie,
        Some(&csrf),
        json!({"source": again, "base": base}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["changed"], true, "{v}");
    let (st, v) = designer_json(
        &s,
        &format!("{page_path}/save"),
        &cookie,
        Some(&csrf),
        json!({"source": again, "base": base}),
    );
    assert_eq!(st, 409, "{v}");
    let (st, v) = designer_json(
        &s,
        &format!("{page_path}/save"),
        &cookie,
        Some(&csrf),
        json!({"source": again, "base": saved_hash}),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["hash"], botserver::basic::content_hash(&again).as_str());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), again);
}

#[test]
fn a_new_workflow_from_a_template_opens_in_the_designer() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = guarded(&db, &bots);
    let cookie = login(&s);
    let page = get(&s, "/bots/support", Some(&cookie));
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("New workflow from a template"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("value=\"approval-chain\""),
        "the templates are not offered"
    );
    let csrf = csrf_of(&page.body);
    let form = |script: &str, csrf: &str| {
        vec![
            ("csrf".to_string(), csrf.to_string()),
            ("template".to_string(), "approval-chain".to_string()),
            ("script".to_string(), script.to_string()),
        ]
    };
    let post = |pairs: Vec<(String, String)>| {
        let p: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        call(
            &s,
            "POST",
            "/bots/support/scripts",
            Some(&p),
            Some(&cookie),
            false,
        )
    };
    // Without the page's token nothing is made.
    let r = post(form("purchase", "nope"));
    assert_eq!(r.status, 403, "{}", r.body);
    let file = bots.path.join("support.gbai/support.gbdialog/purchase.bas");
    assert!(!file.exists());
    // Made, and the designer opens on it with the template's graph.
    let r = post(form("purchase", &csrf));
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        r.location.starts_with("/designer/support/purchase?notice="),
        "{}",
        r.location
    );
    let made = std::fs::read_to_string(&file).unwrap();
    assert!(made.contains("ORCHESTRATE WORKFLOW"), "{made}");
    let d = get(&s, &r.location, Some(&cookie));
    assert_eq!(d.status, 200, "{}", d.body);
    assert!(
        d.body.contains("made from the template approval-chain"),
        "{}",
        d.body
    );
    assert!(
        d.body.contains("k-approval"),
        "the designer draws no approval of the template"
    );
    // Again: a conflict page, the file as it was; a bad name: a 400 page.
    let r = post(form("purchase", &csrf));
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), made);
    let r = post(form("Bad Name", &csrf));
    assert_eq!(r.status, 400, "{}", r.body);
    // The bot lists its new script.
    let (_, list) = s.get_auth("/api/bots", ADMIN);
    assert!(list.to_string().contains("purchase"), "{list}");
}

#[test]
fn a_script_that_does_not_parse_opens_in_the_designer_to_be_mended() {
    let db = TestDb::new();
    let bots = BotDir::new();
    let broken = "ORCHESTRATE WORKFLOW \"w\"\n  STEP 1: DELAY 1\n  IF x THEN\nEND WORKFLOW\n";
    bots.script("mend", "start", broken);
    let s = guarded(&db, &bots);
    let cookie = login(&s);
    let page = get(&s, "/designer/mend/start", Some(&cookie));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("does not parse"), "{}", page.body);
    let csrf = csrf_of(&page.body);
    let at = page.body.find("id=\"base\" value=\"").unwrap() + "id=\"base\" value=\"".len();
    let base = page.body[at..at + 64].to_string();
    let fixed = "ORCHESTRATE WORKFLOW \"w\"\n  STEP 1: DELAY 1\nEND WORKFLOW\n";
    let r = call(
        &s,
        "POST",
        "/designer/mend/start",
        Some(&[
            ("csrf", &csrf),
            ("base", &base),
            ("source", fixed),
            ("action", "save"),
        ]),
        Some(&cookie),
        false,
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let file = bots.path.join("mend.gbai/mend.gbdialog/start.bas");
    assert_eq!(std::fs::read_to_string(file).unwrap(), fixed);
}
