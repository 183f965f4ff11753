//! `botserver bench`: measures every figure of the README (Performance) against a fresh database and
//! prints it beside its target (and, with `--json`, one JSON object on the last line).
//! This file runs the parts in order; each measurement is a file of its own.

use std::path::PathBuf;

use uuid::Uuid;

use super::instance::{create_database, drop_database, start, write_bots};
use super::report::{Extra, Figures};
use super::{conversation, memory, recovery, scale, steps, throughput, wake, wakeups};

/// What `bench` was asked to do.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The server whose `postgres` database creates the bench database.
    pub database_url: String,
    /// Redis, for the wake-up across instances through it (skipped without).
    pub redis_url: Option<String>,
    /// Seconds each throughput figure is measured over.
    pub seconds: f64,
    /// Only these parts (see [`PARTS`]); all when empty. The figures of the others are
    /// not measured (`null` in the JSON).
    pub only: Vec<String>,
}

/// The parts of the bench, for `--only`.
pub const PARTS: &[&str] = &[
    "compile",
    "steps",
    "throughput",
    "delegated",
    "parallel",
    "conversation",
    "wake",
    "wakeups",
    "memory",
    "recovery",
    "scale",
    "console",
];

/// Parts run only when `--only` names them (they take minutes and fill the database).
const ON_REQUEST: &[&str] = &["scale", "console"];

/// Workflows in the wake-up storm.
const WAKEUPS: usize = 10_000;

/// Finished executions written for `throughput_at_1m_ratio`.
const HISTORY: i64 = 1_000_000;

/// Messages each bench conversation answers before its caller starts the next one.
const TURNS: usize = 20;

impl BenchOptions {
    fn wants(&self, part: &str) -> bool {
        if ON_REQUEST.contains(&part) {
            return self.only.iter().any(|p| p == part);
        }
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

/// Runs every benchmark. Progress goes to stderr.
pub async fn run(opts: &BenchOptions) -> Result<(Figures, Extra), String> {
    if let Some(bad) = opts.only.iter().find(|p| !PARTS.contains(&p.as_str())) {
        return Err(format!(
            "--only: unknown part '{bad}' (parts: {})",
            PARTS.join(", ")
        ));
    }
    let mut f = Figures::unmeasured();
    let mut extra = Extra {
        recovery_completed_secs: f64::NAN,
        wakeup_p50_ms: f64::NAN,
        fill_secs: f64::NAN,
        throughput_empty: f64::NAN,
        throughput_full: f64::NAN,
        recovery_100k_completed_secs: f64::NAN,
        scale_skipped: !opts.wants("scale"),
        ..Extra::default()
    };
    let say = |s: &str| eprintln!("bench: {s}");
    if extra.scale_skipped {
        say("the scale part (disk per suspended workflow, 100,000 due workflows, a million finished executions) runs only with --only scale: skipped");
    }

    if opts.wants("compile") {
        say("compiling a generated 1,000-line script");
        f.compile_1000_lines_ms = super::compile::bench_compile(1000, 50).median_ms;
        say("the designer's graph of a generated 1,000-line workflow");
        f.designer_graph_1000_lines_ms = super::designer::bench_graph(1000, 50)?;
    }

    let base = opts.database_url.clone();
    let (dbname, url) = tokio::task::spawn_blocking(move || create_database(&base))
        .await
        .map_err(|e| e.to_string())??;
    let bots: PathBuf =
        std::env::temp_dir().join(format!("botserver-bench-{}", Uuid::now_v7().simple()));
    write_bots(&bots).map_err(|e| e.to_string())?;
    let result = async {
        let a = start(&url, &bots, None, "bench-a", true, None).await?;
        let addr = a.addr.ok_or("no address")?;

        if opts.wants("steps") {
            say("step overhead (100 journaled steps against 100 plain lines)");
            (f.step_overhead_p50_ms, f.step_overhead_p99_ms) = steps::step_overhead(a.rt.clone()).await?;
        }
        if opts.wants("throughput") {
            say("three-step workflows through HTTP, 64 in flight");
            f.workflows_per_sec = throughput::throughput(addr, "three", 64, opts.seconds).await?;
            // What was counted as completed is in the database as completed.
            let stored = super::instance::count(
                &a.rt,
                "SELECT count(*) AS n FROM workflow_executions WHERE script = 'three' AND status = 'completed'",
            )
            .await?;
            let counted = (f.workflows_per_sec * opts.seconds).round() as i64;
            if stored < counted {
                return Err(format!(
                    "throughput: {counted} workflows counted as completed, {stored} stored so"
                ));
            }
        }
        if opts.wants("delegated") {
            say("three delegated steps through HTTP, 64 in flight");
            f.delegated_workflows_per_sec = throughput::throughput(addr, "delegate", 64, opts.seconds).await?;
        }
        if opts.wants("parallel") {
            say("the seed's shape (2 BOT steps, then a PARALLEL of 2 BOT branches) through HTTP, 64 in flight");
            f.parallel_workflows_per_sec = throughput::throughput(addr, "seed", 64, opts.seconds).await?;
        }
        if opts.wants("conversation") {
            say("64 conversations over HTTP, each a HEAR loop answering with TALK");
            let m = conversation::conversations(addr, 64, TURNS, opts.seconds).await?;
            f.conversation_messages_per_sec = m.per_sec;
            f.conversation_reply_p50_ms = m.p50_ms;
            f.conversation_reply_p99_ms = m.p99_ms;
            extra.conversations = m.started;
        }
        if opts.wants("wakeups") {
            say(&format!("{WAKEUPS} workflows waiting for their own events, woken by publishing them over HTTP"));
            let m = wakeups::wakeups(&a, WAKEUPS).await?;
            f.wakeups_per_sec = m.per_sec;
            f.wakeup_p99_ms = m.p99_ms;
            extra.wakeup_p50_ms = m.p50_ms;
            extra.wakeups = WAKEUPS;
        }
        if opts.wants("wake") {
            say("event wake-up: published on another instance, which runs the woken workflow");
            let b = start(&url, &bots, None, "bench-b", true, None).await?;
            (f.event_wake_p50_ms, f.event_wake_p99_ms) = wake::event_wake(&a, &b, 200, "here").await?;
            b.stop().await?;

            say("event wake-up of another instance through PostgreSQL NOTIFY");
            let b = start(&url, &bots, None, "bench-c", false, Some(0)).await?;
            extra.wake_pg = Some(wake::event_wake(&a, &b, 200, "pg").await?);
            b.stop().await?;
        }
        if opts.wants("memory") {
            say("memory of suspended workflows");
            f.suspended_rss_kib_per_workflow = memory::suspended_memory(&a, 2000, &mut extra).await?;
        }
        if opts.wants("console") {
            say("console: a million finished executions, then the list, a filtered list and a workflow's page");
            let t = super::console::console_pages(&a, &url, HISTORY).await?;
            f.console_list_p50_ms = t.list_p50_ms;
            f.console_filtered_p50_ms = t.filtered_p50_ms;
            f.console_detail_p50_ms = t.detail_p50_ms;
            extra.console_deep_page_p50_ms = t.deep_page_p50_ms;
            extra.console_executions = t.executions;
            extra.console_ran = true;
        }
        if opts.wants("scale") {
            say("scale: database growth per suspended workflow (10,000 parked)");
            f.suspended_disk_bytes_per_workflow = scale::suspended_disk(&a, 10_000, &mut extra).await?;
            say("scale: three-step throughput, then a million finished executions, then again");
            f.throughput_at_1m_ratio = scale::throughput_at(&a, &url, HISTORY, opts.seconds, &mut extra).await?;
        }
        a.stop().await?;

        if let (Some(redis), true) = (&opts.redis_url, opts.wants("wake")) {
            say("event wake-up of another instance through Redis");
            let a =
                start(&url, &bots, Some(redis.clone()), "bench-ra", true, None).await?;
            let b = start(&url, &bots, Some(redis.clone()), "bench-rb", false, Some(0))
                .await?;
            extra.wake_redis = Some(wake::event_wake(&a, &b, 200, "redis").await?);
            b.stop().await?;
            a.stop().await?;
        }

        if opts.wants("recovery") {
            say("recovery of 10,000 suspended workflows with due timers");
            f.recovery_10k_secs = recovery::recovery(&url, &bots, 10_000, &mut extra).await?;
        }
        if opts.wants("scale") {
            say("scale: recovery of 100,000 suspended workflows with due timers");
            f.recovery_100k_secs = scale::recovery_100k(&url, &bots, &mut extra).await?;
        }
        Ok::<(), String>(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&bots);
    let base = opts.database_url.clone();
    let _ = tokio::task::spawn_blocking(move || drop_database(&base, &dbname)).await;
    result.map(|()| (f, extra))
}
