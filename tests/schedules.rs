//! Tries to break `SET SCHEDULE`'s promise of one execution per tick: two instances on
//! one database firing a two-second schedule (no tick twice, none skipped), a schedule
//! whose ticks passed while no server ran (exactly one catch-up run, for the latest
//! missed tick), and the removal of the line while the server runs (the schedule goes at
//! the next load). Each run records its tick itself, with a PUBLISH EVENT, and the
//! counts are of those events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Utc};
use common::db::TestDb;
use common::server::{eventually, BotDir, Options, Server};
use diesel::RunQueryDsl;
use serde_json::Value;

/// The script every test schedules: it publishes its tick.
fn ticker(schedule: &str) -> String {
    format!("SET SCHEDULE \"{schedule}\"\nPUBLISH EVENT \"ticked\" WITH tick\n")
}

/// The ticks the runs published, oldest first, with how often each was published.
fn published_ticks(db: &TestDb) -> BTreeMap<String, i64> {
    #[derive(diesel::QueryableByName)]
    struct Tick {
        #[diesel(sql_type = diesel::sql_types::Text)]
        tick: String,
    }
    let rows: Vec<Tick> = diesel::sql_query(
        "SELECT payload #>> '{}' AS tick FROM workflow_events WHERE name = 'ticked' ORDER BY id",
    )
    .load(&mut db.conn())
    .unwrap();
    let mut out = BTreeMap::new();
    for r in rows {
        *out.entry(r.tick).or_insert(0) += 1;
    }
    out
}

fn parse_tick(t: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").unwrap())
}

/// The schedules listed by the API.
fn schedules(s: &Server) -> Vec<Value> {
    let (st, v) = s.get("/api/schedules");
    assert_eq!(st, 200, "{v}");
    v["schedules"].as_array().cloned().unwrap_or_default()
}

#[test]
fn two_instances_run_each_tick_exactly_once() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("clock", "tick", &ticker("*/2 * * * * *"));
    let opts = |name: &str| Options {
        instance: Some(name.into()),
        ..Default::default()
    };
    let a = Server::start_with(&db.url, &bots.path, opts("a"));
    let b = Server::start_with(&db.url, &bots.path, opts("b"));
    let listed = schedules(&a);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["bot"], "clock");
    assert_eq!(listed[0]["script"], "tick");
    assert_eq!(listed[0]["cron"], "*/2 * * * * *");

    std::thread::sleep(Duration::from_secs(20));
    // Stop the ticks by removing the line (the next load drops the schedule), and let
    // the runs already fired finish before counting.
    bots.script(
        "clock",
        "tick",
        "PUBLISH EVENT \"ticked\" WITH \"by hand\"\n",
    );
    eventually(20.0, "the schedule to go and its runs to end", || {
        let left = schedules(&a).len();
        let running = db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE status NOT IN ('completed', 'failed')",
        );
        if left == 0 && running == 0 {
            Ok(())
        } else {
            Err(format!("{left} schedules, {running} executions not ended"))
        }
    });
    drop(a);
    drop(b);
    let ticks = published_ticks(&db);
    let twice: Vec<_> = ticks.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "ticks run more than once: {twice:?}");
    let times: Vec<DateTime<Utc>> = ticks.keys().map(|t| parse_tick(t)).collect();
    assert!(
        times.len() >= 8,
        "only {} ticks in 20 s: {ticks:?}",
        times.len()
    );
    for w in times.windows(2) {
        assert_eq!(
            (w[1] - w[0]).num_seconds(),
            2,
            "a tick is missing between {} and {}: {ticks:?}",
            w[0],
            w[1]
        );
    }
    // One execution per tick, each of the schedule's own script, all completed.
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE bot = 'clock' AND script = 'tick'"
        ),
        times.len() as i64
    );
    assert_eq!(
        db.count("SELECT count(DISTINCT tick) AS n FROM schedule_runs"),
        times.len() as i64
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE status <> 'completed'"),
        0,
        "every tick's run completed"
    );
}

#[test]
fn missed_ticks_are_caught_up_by_one_run_for_the_latest() {
    let db = TestDb::new();
    let bots = BotDir::new();
    // New Year, midnight UTC: no tick of its own during the test.
    bots.script("clock", "yearly", &ticker("0 0 1 1 *"));
    let s = Server::start(&db.url, &bots.path);
    let listed = schedules(&s);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let year = Utc::now().year();
    assert_eq!(
        listed[0]["next_run"],
        format!("{}-01-01T00:00:00Z", year + 1),
        "{listed:?}"
    );
    assert!(
        s.terminate(Duration::from_secs(15)),
        "the server did not stop"
    );
    // The server was down since before New Year 2023: four ticks (2023 to 2026) missed.
    diesel::sql_query("UPDATE schedules SET next_at = '2023-01-01T00:00:00Z'")
        .execute(&mut db.conn())
        .unwrap();

    let s = Server::start(&db.url, &bots.path);
    let ticks = eventually(20.0, "the catch-up run", || {
        let t = published_ticks(&db);
        if t.is_empty() {
            Err(format!("no tick yet; schedules: {:?}", schedules(&s)))
        } else {
            Ok(t)
        }
    });
    // Some looks later, still that one run.
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        assert_eq!(published_ticks(&db), ticks);
        std::thread::sleep(Duration::from_millis(200));
    }
    let latest = format!("{year}-01-01 00:00:00");
    assert_eq!(
        ticks,
        BTreeMap::from([(latest.clone(), 1)]),
        "one run, for the latest missed tick"
    );
    let listed = schedules(&s);
    assert_eq!(
        listed[0]["next_run"],
        format!("{}-01-01T00:00:00Z", year + 1),
        "then the next tick after now: {listed:?}"
    );
    assert_eq!(listed[0]["last_run"], format!("{year}-01-01T00:00:00Z"));
    let id = listed[0]["last_execution_id"].as_str().unwrap().to_string();
    let (st, wf) = s.get(&format!("/api/workflows/{id}"));
    assert_eq!(st, 200, "{wf}");
    assert_eq!(wf["variables"]["tick"], latest.as_str(), "{wf}");
    // The restart's load kept the next run (the cron did not change): nothing else ran.
    assert_eq!(db.count("SELECT count(*) AS n FROM workflow_executions"), 1);
}

#[test]
fn removing_the_line_removes_the_schedule_at_the_next_load() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("clock", "report", &ticker("every day at 9am"));
    bots.script("clock", "often", &ticker("every 5 minutes"));
    let s = Server::start(&db.url, &bots.path);
    let listed = schedules(&s);
    let crons: Vec<(&str, &str)> = listed
        .iter()
        .map(|r| (r["script"].as_str().unwrap(), r["cron"].as_str().unwrap()))
        .collect();
    assert_eq!(
        crons,
        vec![("often", "*/5 * * * *"), ("report", "0 9 * * *")]
    );
    let often_next = listed[0]["next_run"].clone();

    // The line goes from one script; the other script is edited but keeps its schedule.
    bots.script(
        "clock",
        "report",
        "PUBLISH EVENT \"ticked\" WITH \"by hand\"\n",
    );
    bots.script(
        "clock",
        "often",
        &format!("{}TALK \"edited\"\n", ticker("every 5 minutes")),
    );
    let left = eventually(20.0, "the schedule to go at the reload", || {
        let l = schedules(&s);
        if l.len() == 1 {
            Ok(l)
        } else {
            Err(format!("{l:?}"))
        }
    });
    assert_eq!(left[0]["script"], "often");
    assert_eq!(
        left[0]["next_run"], often_next,
        "an unchanged cron keeps its next run"
    );

    // A new cron starts again from its own next tick.
    bots.script("clock", "often", &ticker("0 0 1 1 *"));
    eventually(20.0, "the changed cron to be stored", || {
        let l = schedules(&s);
        if l.len() == 1 && l[0]["cron"] == "0 0 1 1 *" {
            Ok(())
        } else {
            Err(format!("{l:?}"))
        }
    });
    assert!(published_ticks(&db).is_empty());
}

#[test]
fn the_schedules_route_needs_the_admin_token() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("clock", "tick", &ticker("hourly"));
    let s = Server::start_with(
        &db.url,
        &bots.path,
        Options {
            admin_token: Some("sesame".into()),
            ..Default::default()
        },
    );
    let (st, v) = s.get("/api/schedules");
    assert_eq!(st, 401, "{v}");
    assert!(v["error"].is_string(), "{v}");
    let (st, v) = s.get_auth("/api/schedules?bot=clock", "sesame");
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["schedules"][0]["cron"], "0 * * * *", "{v}");
    assert_eq!(v["schedules"][0]["last_run"], Value::Null, "{v}");
    let (_, v) = s.get_auth("/api/schedules?bot=other", "sesame");
    assert_eq!(v["schedules"], serde_json::json!([]), "{v}");
}
