//! `botserver bench`: measures every figure of DESIGN §6 against a fresh database and
//! prints it beside its target (and, with `--json`, one JSON object on the last line).
//!
//! Instances run in this process (each with its own pool, runtime, scheduler and HTTP
//! server), talking only through PostgreSQL and Redis, as separate servers would.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use serde_json::{json, Value};
use tokio::sync::watch;
use uuid::Uuid;

use super::http::Http;
use crate::db::states::{ExecKind, ExecStatus};
use crate::db::{self, executions};
use crate::server::{self, AppState, ServerConfig};
use crate::workflow::journal::{Journal, Op, Timer};
use crate::workflow::{scheduler, Runtime, RuntimeConfig};

/// What `bench` was asked to do.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub database_url: String,
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

/// The figures, with the keys `--json` prints.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Figures {
    pub workflows_per_sec: f64,
    pub delegated_workflows_per_sec: f64,
    pub step_overhead_p50_ms: f64,
    pub step_overhead_p99_ms: f64,
    pub event_wake_p50_ms: f64,
    pub event_wake_p99_ms: f64,
    pub recovery_10k_secs: f64,
    pub compile_1000_lines_ms: f64,
    pub suspended_rss_kib_per_workflow: f64,
}

/// Figures printed in the table only.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// Woken on another instance (the publisher had no free run slot), through NOTIFY.
    pub wake_pg: Option<(f64, f64)>,
    pub wake_redis: Option<(f64, f64)>,
    pub recovery_completed_secs: f64,
    pub threads_before: usize,
    pub threads_after: usize,
}

const BENCH: &[(&str, &str)] = &[
    ("three", "STEP 1: x = x + 1\nSTEP 2: x = x + 1\nSTEP 3: x = x + 1\nRETURN x\n"),
    (
        "delegate",
        "STEP 1: BOT \"worker\" \"noop\"\nSTEP 2: BOT \"worker\" \"noop\"\nSTEP 3: BOT \"worker\" \"noop\"\nRETURN result\n",
    ),
    ("waiter", "WAIT FOR EVENT n\nRETURN 1\n"),
    ("parked", "WAIT 36000\n"),
    ("sleeper", "WAIT 1\nRETURN 1\n"),
];

fn write_bots(dir: &Path) -> std::io::Result<()> {
    let bench = dir.join("bench.gbai").join("bench.gbdialog");
    std::fs::create_dir_all(&bench)?;
    for (name, src) in BENCH {
        std::fs::write(bench.join(format!("{name}.bas")), src)?;
    }
    let steps: String = (1..=100)
        .map(|i| format!("STEP {i}: x = x + 1\n"))
        .collect();
    let plain: String = (1..=100).map(|_| "x = x + 1\n".to_string()).collect();
    std::fs::write(bench.join("steps.bas"), steps)?;
    std::fs::write(bench.join("plain.bas"), plain)?;
    let worker = dir.join("worker.gbai").join("worker.gbdialog");
    std::fs::create_dir_all(&worker)?;
    std::fs::write(worker.join("task.bas"), "RETURN 1\n")?;
    Ok(())
}

struct Instance {
    rt: Arc<Runtime>,
    addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Instance {
    /// An instance; `serving` adds the scheduler and the HTTP server. An instance with
    /// `slots` = 0 never runs what it wakes: another instance must be woken for that.
    async fn start(
        url: &str,
        bots: &Path,
        redis: Option<String>,
        name: &str,
        serving: bool,
        slots: Option<usize>,
    ) -> Result<Instance, String> {
        let mut config = RuntimeConfig::default();
        if let Some(slots) = slots {
            config.max_concurrent_runs = slots;
        }
        let pool = db::pool(url, config.max_concurrent_runs as u32 * 2 + 8)?;
        let rt = Runtime::new(pool, config, name.to_string());
        let packages = crate::bots::load_packages(bots).map_err(|e| e.to_string())?;
        let rt2 = rt.clone();
        tokio::task::spawn_blocking(move || rt2.load_packages(packages))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let (stop, rx) = watch::channel(false);
        let announcer =
            crate::events::start(rt.clone(), redis.clone(), rt.redis.clone(), rx.clone());
        let _ = rt.announcer.set(announcer);
        let mut tasks = Vec::new();
        let mut addr = None;
        if serving {
            tasks.push(tokio::spawn(scheduler::run(rt.clone(), rx.clone())));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| e.to_string())?;
            addr = Some(listener.local_addr().map_err(|e| e.to_string())?);
            let state = AppState {
                rt: rt.clone(),
                config: Arc::new(ServerConfig {
                    redis_url: redis.clone(),
                    ..ServerConfig::default()
                }),
            };
            let mut rx3 = rx.clone();
            tasks.push(tokio::spawn(async move {
                let _ = server::serve(listener, state, async move {
                    let _ = rx3.changed().await;
                })
                .await;
            }));
        }
        if redis.is_some() {
            // Give the subscription a moment so that the first wake-ups are not lost.
            for _ in 0..100 {
                if rt.redis.describe() == "ok" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok(Instance {
            rt,
            addr,
            stop,
            tasks,
        })
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

/// Workflows of `script` completed per second with `callers` in flight, through HTTP.
async fn throughput(
    addr: SocketAddr,
    script: &str,
    callers: usize,
    secs: f64,
) -> Result<f64, String> {
    let warm = Duration::from_secs_f64(1.0);
    let start = Instant::now();
    let measure_from = start + warm;
    let end = measure_from + Duration::from_secs_f64(secs);
    let done = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for _ in 0..callers {
        let done = done.clone();
        let body = json!({ "bot": "bench", "script": script, "input": {} }).to_string();
        handles.push(tokio::spawn(async move {
            let mut http = Http::connect(addr).await.map_err(|e| e.to_string())?;
            while Instant::now() < end {
                let (st, text) = http
                    .request("POST", "/api/workflows", Some(&body))
                    .await
                    .map_err(|e| e.to_string())?;
                if st != 201 {
                    return Err(format!("start failed ({st}): {text}"));
                }
                let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                let id = v["id"].as_str().unwrap_or_default().to_string();
                let (st, text) = http
                    .request(
                        "GET",
                        &format!("/api/workflows/{id}/result?timeout=60"),
                        None,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                if st != 200 || v["status"] != "completed" {
                    return Err(format!("workflow {id} did not complete: {text}"));
                }
                let now = Instant::now();
                if now >= measure_from && now < end {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok::<(), String>(())
        }));
    }
    for h in handles {
        h.await.map_err(|e| e.to_string())??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / secs)
}

/// Runs one execution of `script` to its end on this thread; returns the wall time.
fn run_inline(rt: &Runtime, script: &str) -> Result<Duration, String> {
    let mut conn = rt.conn().map_err(|e| e.to_string())?;
    let (name, hash) = rt
        .current_script(&mut conn, "bench", script)
        .map_err(|e| e.to_string())?;
    let id = Uuid::now_v7();
    let new = executions::NewExecution::top(
        id,
        ExecKind::Workflow,
        "bench",
        (name, hash),
        None,
        json!({ "workflow_id": id }),
    )
    .owned_by(Some(rt.owner.clone()));
    executions::create(&mut conn, &new, rt.config.lease_secs).map_err(|e| e.to_string())?;
    drop(conn);
    let t = Instant::now();
    let report = rt.run_owned(id).map_err(|e| e.to_string())?;
    let took = t.elapsed();
    if report.status != ExecStatus::Completed {
        return Err(format!("{script} ended {}", report.status));
    }
    Ok(took)
}

/// Per-step cost of journaling: 100 STEPs against the same 100 lines without STEP.
async fn step_overhead(rt: Arc<Runtime>) -> Result<(f64, f64), String> {
    tokio::task::spawn_blocking(move || {
        for _ in 0..5 {
            run_inline(&rt, "plain")?;
            run_inline(&rt, "steps")?;
        }
        let mut plain = Vec::new();
        let mut steps = Vec::new();
        for _ in 0..40 {
            plain.push(run_inline(&rt, "plain")?.as_secs_f64() * 1000.0);
            steps.push(run_inline(&rt, "steps")?.as_secs_f64() * 1000.0);
        }
        let base = percentile(&sorted(plain), 0.5);
        let per_step = sorted(
            steps
                .iter()
                .map(|s| ((s - base) / 100.0).max(0.0))
                .collect(),
        );
        Ok((percentile(&per_step, 0.5), percentile(&per_step, 0.99)))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Publish on `publisher` → the workflow waiting on `waiter` has run again (ms), on
/// whichever of the two ran it.
async fn event_wake(
    waiter: &Instance,
    publisher: &Instance,
    n: usize,
    tag: &str,
) -> Result<(f64, f64), String> {
    let mut lat = Vec::new();
    for i in 0..n {
        let name = format!("bench-{tag}-{i}");
        let rt = waiter.rt.clone();
        let input = json!({ "n": name });
        let (id, _) =
            tokio::task::spawn_blocking(move || rt.start_workflow("bench", "waiter", input))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
        let waiting_since = Instant::now();
        loop {
            let rt = waiter.rt.clone();
            let status = tokio::task::spawn_blocking(move || {
                let mut c = rt.conn().ok()?;
                executions::get(&mut c, id).ok().flatten().map(|e| e.status)
            })
            .await
            .map_err(|e| e.to_string())?;
            if status == Some(ExecStatus::Waiting) {
                break;
            }
            if waiting_since.elapsed() > Duration::from_secs(10) {
                return Err(format!("waiter {id} never started waiting"));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let mut finished = waiter.rt.finished.subscribe();
        let mut finished_there = publisher.rt.finished.subscribe();
        let t0 = Instant::now();
        let rt = publisher.rt.clone();
        let ev = name.clone();
        tokio::task::spawn_blocking(move || rt.publish_event(&ev, &json!({ "i": i })))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let woke = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let got = tokio::select! {
                    r = finished.recv() => r,
                    r = finished_there.recv() => r,
                };
                match got {
                    Ok(done) if done == id => return true,
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return false,
                }
            }
        })
        .await;
        if !matches!(woke, Ok(true)) {
            return Err(format!("workflow {id} was not woken by event {name}"));
        }
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let lat = sorted(lat);
    Ok((percentile(&lat, 0.5), percentile(&lat, 0.99)))
}

fn proc_status(field: &str) -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

async fn count(rt: &Arc<Runtime>, sql: &'static str) -> Result<i64, String> {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rt = rt.clone();
    tokio::task::spawn_blocking(move || {
        let mut c = rt.conn().map_err(|e| e.to_string())?;
        let rows: Vec<N> = diesel::sql_query(sql)
            .load(&mut *c)
            .map_err(|e| e.to_string())?;
        Ok(rows.first().map(|r| r.n).unwrap_or(0))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Memory per suspended workflow: RSS growth over `n` workflows parked in a timer.
async fn suspended_memory(inst: &Instance, n: usize, extra: &mut Extra) -> Result<f64, String> {
    extra.threads_before = proc_status("Threads:").unwrap_or(0);
    let before = proc_status("VmRSS:").unwrap_or(0) as f64;
    let rt = inst.rt.clone();
    tokio::task::spawn_blocking(move || {
        for _ in 0..n {
            rt.start_workflow("bench", "parked", json!({}))
                .map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    })
    .await
    .map_err(|e| e.to_string())??;
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(&inst.rt, "SELECT count(*) AS n FROM workflow_executions WHERE script = 'parked' AND status = 'waiting'").await?
        < n as i64
    {
        if Instant::now() > deadline {
            return Err("parked workflows did not all suspend".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    extra.threads_after = proc_status("Threads:").unwrap_or(0);
    let after = proc_status("VmRSS:").unwrap_or(0) as f64;
    Ok(((after - before) / n as f64).max(0.0))
}

/// 10,000 suspended workflows with due timers: a new instance starts → all running again.
async fn recovery(url: &str, bots: &Path, n: i64, extra: &mut Extra) -> Result<f64, String> {
    {
        let mut conn = db::connect(url)?;
        diesel::sql_query(
            "INSERT INTO workflow_executions (id, kind, bot, script, script_hash, entry, name, status, waiting_for, wake_at, input, variables) \
             SELECT gen_random_uuid(), 'workflow', 'bench', 'sleeper', (SELECT hash FROM scripts WHERE bot = 'bench' AND name = 'sleeper' LIMIT 1), \
             0, 'recovery', 'waiting', '{\"kind\": \"timer\"}', now() - interval '1 second', '{}', '{}' FROM generate_series(1, $1)",
        )
        .bind::<diesel::sql_types::BigInt, _>(n)
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
        // The entry of their `WAIT 1`, long due.
        let key = Journal::new(Default::default(), usize::MAX).op_key(None, Op::Sleep);
        let due = serde_json::to_value(Timer {
            until: chrono::DateTime::UNIX_EPOCH,
        })
        .map_err(|e| e.to_string())?;
        diesel::sql_query(
            "INSERT INTO journal (execution_id, key, value) SELECT id, $1, $2 \
             FROM workflow_executions WHERE name = 'recovery'",
        )
        .bind::<diesel::sql_types::Text, _>(key.as_str())
        .bind::<diesel::sql_types::Jsonb, _>(due)
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    }
    let t = Instant::now();
    let inst = Instance::start(url, bots, None, "bench-recovery", true, None).await?;
    let mut running_again = None;
    loop {
        let waiting = count(&inst.rt, "SELECT count(*) AS n FROM workflow_executions WHERE name = 'recovery' AND status = 'waiting'").await?;
        if waiting == 0 && running_again.is_none() {
            running_again = Some(t.elapsed().as_secs_f64());
        }
        let done = count(&inst.rt, "SELECT count(*) AS n FROM workflow_executions WHERE name = 'recovery' AND status = 'completed'").await?;
        if done == n {
            extra.recovery_completed_secs = t.elapsed().as_secs_f64();
            break;
        }
        if t.elapsed() > Duration::from_secs(180) {
            return Err(format!(
                "recovery: only {done} of {n} completed after 180 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    inst.stop().await;
    Ok(running_again.unwrap_or(extra.recovery_completed_secs))
}

/// A fresh database on the server of `url`, dropped by [`drop_database`].
fn create_database(url: &str) -> Result<(String, String), String> {
    let name = format!("botserver_bench_{}", Uuid::now_v7().simple());
    let mut admin = db::connect(url)?;
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .map_err(|e| format!("cannot create the bench database: {e}"))?;
    let (prefix, rest) = url
        .rsplit_once('/')
        .ok_or("DATABASE_URL has no database name")?;
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    let bench_url = format!("{prefix}/{name}{query}");
    let mut conn = db::connect(&bench_url)?;
    db::migrate(&mut conn)?;
    Ok((name, bench_url))
}

fn drop_database(url: &str, name: &str) {
    if let Ok(mut admin) = db::connect(url) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
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
        let a = Instance::start(&url, &bots, None, "bench-a", true, None).await?;
        let addr = a.addr.ok_or("no address")?;

        if opts.wants("steps") {
            say("step overhead (100 journaled steps against 100 plain lines)");
            (f.step_overhead_p50_ms, f.step_overhead_p99_ms) = step_overhead(a.rt.clone()).await?;
        }
        if opts.wants("throughput") {
            say("three-step workflows through HTTP, 64 in flight");
            f.workflows_per_sec = throughput(addr, "three", 64, opts.seconds).await?;
            // What was counted as completed is in the database as completed.
            let stored = count(
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
            f.delegated_workflows_per_sec = throughput(addr, "delegate", 64, opts.seconds).await?;
        }
        if opts.wants("wake") {
            say("event wake-up: published on another instance, which runs the woken workflow");
            let b = Instance::start(&url, &bots, None, "bench-b", true, None).await?;
            (f.event_wake_p50_ms, f.event_wake_p99_ms) = event_wake(&a, &b, 200, "here").await?;
            b.stop().await;

            say("event wake-up of another instance through PostgreSQL NOTIFY");
            let b = Instance::start(&url, &bots, None, "bench-c", false, Some(0)).await?;
            extra.wake_pg = Some(event_wake(&a, &b, 200, "pg").await?);
            b.stop().await;
        }
        if opts.wants("memory") {
            say("memory of suspended workflows");
            f.suspended_rss_kib_per_workflow = suspended_memory(&a, 2000, &mut extra).await?;
        }
        a.stop().await;

        if let (Some(redis), true) = (&opts.redis_url, opts.wants("wake")) {
            say("event wake-up of another instance through Redis");
            let a =
                Instance::start(&url, &bots, Some(redis.clone()), "bench-ra", true, None).await?;
            let b = Instance::start(&url, &bots, Some(redis.clone()), "bench-rb", false, Some(0))
                .await?;
            extra.wake_redis = Some(event_wake(&a, &b, 200, "redis").await?);
            b.stop().await;
            a.stop().await;
        }

        if opts.wants("recovery") {
            say("recovery of 10,000 suspended workflows with due timers");
            f.recovery_10k_secs = recovery(&url, &bots, 10_000, &mut extra).await?;
        }
        Ok::<(), String>(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&bots);
    let base = opts.database_url.clone();
    let _ = tokio::task::spawn_blocking(move || drop_database(&base, &dbname)).await;
    result.map(|()| (f, extra))
}

/// The table `bench` prints.
/// A figure with `digits` decimals, or `-` when it was not measured.
fn fig(v: f64, digits: usize) -> String {
    if v.is_nan() {
        "-".into()
    } else {
        format!("{v:.digits$}")
    }
}

pub fn table(f: &Figures, e: &Extra) -> String {
    let mut rows: Vec<(String, String, String)> = vec![
        (
            "three-step workflows/s (64 in flight, HTTP)".into(),
            fig(f.workflows_per_sec, 0),
            ">= 3000".into(),
        ),
        (
            "delegated three-step workflows/s".into(),
            fig(f.delegated_workflows_per_sec, 0),
            "-".into(),
        ),
        (
            "step overhead p50 (ms)".into(),
            fig(f.step_overhead_p50_ms, 3),
            "< 0.5".into(),
        ),
        (
            "step overhead p99 (ms)".into(),
            fig(f.step_overhead_p99_ms, 3),
            "-".into(),
        ),
        (
            "event wake p50 (ms)".into(),
            fig(f.event_wake_p50_ms, 2),
            "< 2".into(),
        ),
        (
            "event wake p99 (ms)".into(),
            fig(f.event_wake_p99_ms, 2),
            "< 10".into(),
        ),
    ];
    for (carrier, figures) in [("PostgreSQL NOTIFY", e.wake_pg), ("Redis", e.wake_redis)] {
        if let Some((p50, p99)) = figures {
            rows.push((
                format!("  publisher full, woken elsewhere by {carrier}: p50 / p99 (ms)"),
                format!("{p50:.2} / {p99:.2}"),
                "-".into(),
            ));
        }
    }
    rows.extend([
        (
            "recovery: 10,000 due workflows running again (s)".into(),
            fig(f.recovery_10k_secs, 2),
            "< 2".into(),
        ),
        (
            "recovery: 10,000 workflows completed (s)".into(),
            fig(e.recovery_completed_secs, 2),
            "-".into(),
        ),
        (
            "compile 1,000 lines (ms, median)".into(),
            fig(f.compile_1000_lines_ms, 2),
            "< 20".into(),
        ),
        (
            "memory per suspended workflow (KiB)".into(),
            fig(f.suspended_rss_kib_per_workflow, 2),
            "< 10".into(),
        ),
        (
            "threads before / after 2,000 suspended".into(),
            format!("{} / {}", e.threads_before, e.threads_after),
            "no growth".into(),
        ),
    ]);
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(10);
    let mut out = format!("{:<w$}  {:>10}  {:>10}\n", "figure", "measured", "target");
    for (name, v, t) in rows {
        out.push_str(&format!("{name:<w$}  {v:>10}  {t:>10}\n"));
    }
    out
}
