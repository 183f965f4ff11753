//! `botserver bench`: measures every figure of the README (Performance) against a fresh database and
//! prints it beside its target (and, with `--json`, one JSON object on the last line).
//! This file runs the parts in order; each measurement is a file of its own.

use std::path::PathBuf;

use uuid::Uuid;

use super::instance::{create_database, drop_database, start, write_bots};
use super::report::{Extra, Figures};
use super::{memory, recovery, steps, throughput, wake};

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
    "wake",
    "memory",
    "recovery",
];

impl BenchOptions {
    fn wants(&self, part: &str) -> bool {
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
    let mut f = Figures {
        workflows_per_sec: f64::NAN,
        delegated_workflows_per_sec: f64::NAN,
        step_overhead_p50_ms: f64::NAN,
        step_overhead_p99_ms: f64::NAN,
        event_wake_p50_ms: f64::NAN,
        event_wake_p99_ms: f64::NAN,
        recovery_10k_secs: f64::NAN,
        compile_1000_lines_ms: f64::NAN,
        suspended_rss_kib_per_workflow: f64::NAN,
    };
    let mut extra = Extra {
        recovery_completed_secs: f64::NAN,
        ..Extra::default()
    };
    let say = |s: &str| eprintln!("bench: {s}");

    if opts.wants("compile") {
        say("compiling a generated 1,000-line script");
        f.compile_1000_lines_ms = super::compile::bench_compile(1000, 50).median_ms;
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
        Ok::<(), String>(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&bots);
    let base = opts.database_url.clone();
    let _ = tokio::task::spawn_blocking(move || drop_database(&base, &dbname)).await;
    result.map(|()| (f, extra))
}
