//! Chaos: nothing lost, nothing done twice, no wake-up missed while everything around the
//! workflows fails at random. Two instances on one private PostgreSQL cluster and one
//! private Redis run N workflows, each delegating to a worker bot (which waits a timer
//! and then inserts a row and publishes an event), asking for a human approval (decided
//! through the API as it appears), waiting for an event (published through the API once
//! the wait shows) and finally inserting a row and counting itself in bot memory. While
//! they are in flight, a seeded schedule SIGKILLs either instance several times (each
//! restarted after a random downtime; sometimes both are down), restarts PostgreSQL once
//! (`pg_ctl restart -m immediate`) and stops Redis for a few seconds; the test drives
//! the workload through whichever instance answers, retrying on connection errors and
//! 503s. Afterwards every workflow is `completed`, every side effect is there exactly
//! once per workflow, and no execution is left `running` or `waiting`.
//!
//! The cluster is private because the test restarts it: the shared server is used by
//! every other test. Without PostgreSQL server binaries (`/usr/lib/postgresql/*/bin`)
//! the test says so and passes without running.
//!
//! Size and replay: `CHAOS_WORKFLOWS` (default 12), `CHAOS_SECS` (the fault window,
//! default 30 s), `CHAOS_KILLS` (default one per 6 s of window), `CHAOS_SEED` (printed at
//! the start of every run) to replay a schedule. The default run takes about a minute.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::server::{eventually, BotDir, Options, Server};
use diesel::{Connection, PgConnection, RunQueryDsl};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const FLOW: &str = r#"
ORCHESTRATE WORKFLOW "chaos"
  STEP 1: prep = BOT "worker" "prepare"
  STEP 2: HUMAN APPROVAL FROM "ops@example.com" MESSAGE "chaos workflow " + n
  STEP 3: WAIT FOR EVENT go TIMEOUT 900
  STEP 4:
    row = INSERT "done", { wf: workflow_id, n: n, go: event.payload.n }
    c = GET BOT MEMORY("runs:" + n)
    IF ISNULL(c) THEN c = 0
    SET BOT MEMORY "runs:" + n, c + 1
  RETURN { n: n, prepared: prep.prepared, approval: approval.status, go: event.payload.n, done: row.id }
END WORKFLOW
"#;

const FLOW_TABLES: &str =
    "TABLE done\n  id SERIAL KEY\n  wf STRING(64)\n  n INTEGER\n  go INTEGER\nEND TABLE\n";

// No unique constraint on `wf`: a second insert for one workflow would show as a row.
const WORKER_TABLES: &str =
    "TABLE prepared\n  id SERIAL KEY\n  wf STRING(64)\n  n INTEGER\nEND TABLE\n";

const PREPARE: &str = r#"
WAIT delay
row = INSERT "prepared", { wf: workflow_id, n: n }
PUBLISH EVENT "prepared" WITH { n: n, wf: workflow_id }
RETURN { prepared: row.id }
"#;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a valid value")),
        _ => default,
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A PostgreSQL cluster of this test alone, in a temporary folder on a free port; stopped
/// (immediately) and removed on drop. As root, its tools run as the `postgres` user, as
/// the server's zero-config cluster does: PostgreSQL refuses to run as root.
struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PgCluster {
    /// The newest installed server binaries, if any.
    fn bin_dir() -> Option<PathBuf> {
        let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .filter_map(|e| {
                let version = e.file_name().to_string_lossy().parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("initdb").is_file().then_some((version, bin))
            })
            .collect();
        found.sort();
        found.pop().map(|(_, bin)| bin)
    }

    fn start() -> Option<PgCluster> {
        let bin = PgCluster::bin_dir()?;
        let dir = std::env::temp_dir().join(format!(
            "botserver-chaos-pg-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let as_postgres = is_root();
        if as_postgres {
            let st = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(st.success(), "chown of {} failed", dir.display());
        }
        let pg = PgCluster {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        let data = pg.data();
        pg.tool(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            pg.port,
            pg.dir.display()
        );
        let log = pg.dir.join("postgres.log").display().to_string();
        pg.tool(
            "pg_ctl",
            &["-D", &data, "-o", &opts, "-l", &log, "-w", "start"],
        );
        let mut conn = PgConnection::establish(&pg.url("postgres")).unwrap();
        diesel::sql_query("CREATE DATABASE chaos")
            .execute(&mut conn)
            .unwrap();
        Some(pg)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    fn tool(&self, tool: &str, args: &[&str]) {
        let path = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A crash and restart of PostgreSQL (immediate stop: no checkpoint, recovery from
    /// the WAL on start), on the same port; returns once it accepts connections.
    fn restart(&self) {
        // `-l` again: without it the new postmaster would write to our pipe and hold it
        // open, and waiting for pg_ctl's output would never end.
        let log = self.dir.join("postgres.log").display().to_string();
        self.tool(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-m",
                "immediate",
                "-w",
                "restart",
            ],
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Keep PostgreSQL's log beside the servers' for the post-mortem.
            let keep = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join("server-logs")
                .join(format!("chaos-postgres-{}.log", self.port));
            if std::fs::copy(self.dir.join("postgres.log"), &keep).is_ok() {
                eprintln!("PostgreSQL's log: {}", keep.display());
            }
        }
        let path = self.bin.join("pg_ctl");
        let data = self.data();
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let _ = cmd
            .args(["-D", &data, "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A private redis-server on a fixed port, killed on drop; [`Redis::stop`] and
/// [`Redis::start`] again make an outage.
struct Redis {
    child: Option<Child>,
    port: u16,
}

impl Redis {
    fn new() -> Redis {
        let mut r = Redis {
            child: None,
            port: free_port(),
        };
        r.start();
        r
    }

    fn start(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is needed for this test");
        self.child = Some(child);
        let port = self.port;
        eventually(10.0, "redis-server answering", || {
            std::net::TcpStream::connect(("127.0.0.1", port))
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The two instances, either of which may be down at any moment, and the requests sent
/// to them.
struct Fleet {
    slots: Mutex<[Option<Server>; 2]>,
    db_url: String,
    bots: PathBuf,
    redis_url: String,
    logs: Mutex<Vec<PathBuf>>,
    requests: AtomicU64,
    retries: AtomicU64,
}

const NAMES: [&str; 2] = ["chaos-a", "chaos-b"];

impl Fleet {
    fn start(&self, i: usize) {
        let s = Server::start_with(
            &self.db_url,
            &self.bots,
            Options {
                redis_url: Some(self.redis_url.clone()),
                instance: Some(NAMES[i].into()),
                ..Options::default()
            },
        );
        self.logs.lock().unwrap().push(s.log.clone());
        let old = self.slots.lock().unwrap()[i].replace(s);
        assert!(old.is_none(), "instance {} started twice", NAMES[i]);
    }

    fn kill(&self, i: usize) {
        let s = self.slots.lock().unwrap()[i].take();
        if let Some(s) = s {
            s.kill();
        }
    }

    fn up(&self) -> Vec<usize> {
        let slots = self.slots.lock().unwrap();
        (0..2).filter(|i| slots[*i].is_some()).collect()
    }

    fn bases(&self) -> Vec<String> {
        let slots = self.slots.lock().unwrap();
        slots.iter().flatten().map(|s| s.base.clone()).collect()
    }

    /// One request through whichever instance answers: a connection error or a 503 (an
    /// instance or the database down) is tried again, on the other instance too, for up
    /// to a minute. Any other answer is returned.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let end = Instant::now() + Duration::from_secs(60);
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(20))
            .build();
        let mut last = String::from("no instance was up");
        let mut turn = rand::random::<usize>();
        loop {
            let bases = self.bases();
            if !bases.is_empty() {
                turn += 1;
                let base = &bases[turn % bases.len()];
                self.requests.fetch_add(1, Ordering::Relaxed);
                let req = agent.request(method, &format!("{base}{path}"));
                let resp = match body {
                    Some(b) => req
                        .set("Content-Type", "application/json")
                        .send_string(&b.to_string()),
                    None => req.call(),
                };
                let answer = match resp {
                    Ok(r) => Some(r),
                    Err(ureq::Error::Status(_, r)) => Some(r),
                    Err(e) => {
                        last = format!("{base}: {e}");
                        None
                    }
                };
                if let Some(r) = answer {
                    let status = r.status();
                    let text = r.into_string().unwrap_or_default();
                    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    if status != 503 {
                        return (status, v);
                    }
                    last = format!("{base}: 503 {v}");
                }
            }
            assert!(
                Instant::now() < end,
                "{method} {path}: no answer for 60 s; last: {last}"
            );
            self.retries.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// What the fault schedule does at one moment.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// SIGKILL a random instance that is up (it comes back after `down` seconds).
    Kill {
        down: f64,
    },
    /// Start instance `i` again.
    Restart(usize),
    /// Crash and restart PostgreSQL.
    PostgresRestart,
    /// Stop Redis; it comes back after `down` seconds.
    RedisDown {
        down: f64,
    },
    RedisUp,
}

#[derive(Default, Debug)]
struct FaultCounts {
    kills: usize,
    both_down: usize,
    postgres_restarts: usize,
    redis_outages: usize,
}

/// Runs the schedule: `plan` is (seconds after `t0`, fault), followed ones added as
/// they come due. Returns what was done.
fn run_faults(
    fleet: &Fleet,
    redis: &Mutex<Redis>,
    pg: &PgCluster,
    mut plan: Vec<(f64, Fault)>,
    rng: &mut StdRng,
    t0: Instant,
) -> FaultCounts {
    let mut counts = FaultCounts::default();
    loop {
        plan.sort_by(|a, b| a.0.total_cmp(&b.0));
        if plan.is_empty() {
            return counts;
        }
        let (at, fault) = plan[0];
        // A kill when both are down waits for the next restart.
        let fault = match fault {
            Fault::Kill { .. } if fleet.up().is_empty() => {
                let next = plan
                    .iter()
                    .position(|(_, f)| matches!(f, Fault::Restart(_)))
                    .expect("both instances down and no restart planned");
                plan[0].0 = plan[next].0 + 0.01;
                continue;
            }
            f => f,
        };
        plan.remove(0);
        let wait = t0 + Duration::from_secs_f64(at);
        if let Some(d) = wait.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        let now = t0.elapsed().as_secs_f64();
        match fault {
            Fault::Kill { down } => {
                let up = fleet.up();
                let i = up[rng.gen_range(0..up.len())];
                fleet.kill(i);
                counts.kills += 1;
                if fleet.up().is_empty() {
                    counts.both_down += 1;
                }
                eprintln!("[{now:5.1} s] SIGKILL {} (back in {down:.1} s)", NAMES[i]);
                plan.push((now + down, Fault::Restart(i)));
            }
            Fault::Restart(i) => {
                fleet.start(i);
                eprintln!("[{now:5.1} s] {} started again", NAMES[i]);
            }
            Fault::PostgresRestart => {
                eprintln!("[{now:5.1} s] PostgreSQL: immediate stop and restart");
                pg.restart();
                counts.postgres_restarts += 1;
                eprintln!(
                    "[{:5.1} s] PostgreSQL accepts connections again",
                    t0.elapsed().as_secs_f64()
                );
            }
            Fault::RedisDown { down } => {
                redis.lock().unwrap().stop();
                counts.redis_outages += 1;
                eprintln!("[{now:5.1} s] Redis stopped (back in {down:.1} s)");
                plan.push((now + down, Fault::RedisUp));
            }
            Fault::RedisUp => {
                redis.lock().unwrap().start();
                eprintln!("[{now:5.1} s] Redis started again");
            }
        }
    }
}

/// The test's side of one workflow.
struct Flow {
    id: String,
    n: usize,
    /// Not before this many seconds after the start is its approval decided...
    approve_at: f64,
    /// ...nor its event published.
    publish_at: f64,
    decided: bool,
    published: bool,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

#[test]
fn workflows_survive_kills_a_postgres_restart_and_a_redis_outage() {
    let Some(pg) = PgCluster::start() else {
        eprintln!(
            "SKIPPED chaos test: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin \
             (it needs a private cluster, since it restarts it)"
        );
        return;
    };
    let workflows: usize = env_or("CHAOS_WORKFLOWS", 12);
    let window: f64 = env_or("CHAOS_SECS", 30.0);
    let kills: usize = env_or("CHAOS_KILLS", ((window / 6.0).round() as usize).max(1));
    let seed: u64 = env_or("CHAOS_SEED", rand::random::<u64>());
    eprintln!(
        "chaos: CHAOS_SEED={seed} CHAOS_WORKFLOWS={workflows} CHAOS_SECS={window} CHAOS_KILLS={kills}"
    );
    let mut rng = StdRng::seed_from_u64(seed);

    let bots = BotDir::new();
    bots.script("flow", "start", FLOW)
        .script("flow", "tables", FLOW_TABLES)
        .script("worker", "tables", WORKER_TABLES)
        .script("worker", "prepare", PREPARE);
    let redis = Mutex::new(Redis::new());
    let fleet = Fleet {
        slots: Mutex::new([None, None]),
        db_url: pg.url("chaos"),
        bots: bots.path.clone(),
        redis_url: redis.lock().unwrap().url(),
        logs: Mutex::new(Vec::new()),
        requests: AtomicU64::new(0),
        retries: AtomicU64::new(0),
    };
    // One after the other: the first migrates the empty database.
    fleet.start(0);
    fleet.start(1);

    // The workload's moments, spread over the fault window: the worker's timer, the
    // approval, the event.
    let mut flows: Vec<Flow> = Vec::new();
    let t0 = Instant::now();
    for n in 0..workflows {
        let delay = rng.gen_range(0.0..window * 0.5);
        let approve_at = rng.gen_range(0.0..window * 0.7);
        let publish_at = rng.gen_range(window * 0.3..window);
        // Started before any fault: a start is not idempotent yet (a lost answer cannot
        // be retried without risking a second workflow), so starts are not part of the
        // chaos.
        let (st, v) = fleet.call(
            "POST",
            "/api/workflows",
            Some(&json!({ "bot": "flow", "script": "start",
                          "input": { "n": n, "go": format!("go-{n}"), "delay": delay } })),
        );
        assert_eq!(st, 201, "starting workflow {n}: {v}");
        flows.push(Flow {
            id: v["id"].as_str().unwrap().to_string(),
            n,
            approve_at,
            publish_at,
            decided: false,
            published: false,
        });
    }

    let mut plan: Vec<(f64, Fault)> = (0..kills)
        .map(|_| {
            (
                rng.gen_range(1.0..window),
                Fault::Kill {
                    down: rng.gen_range(0.2..4.0),
                },
            )
        })
        .collect();
    plan.push((rng.gen_range(1.0..window), Fault::PostgresRestart));
    plan.push((
        rng.gen_range(1.0..window),
        Fault::RedisDown {
            down: rng.gen_range(2.0..6.0),
        },
    ));
    let mut fault_rng = StdRng::seed_from_u64(rng.gen());

    let by_id: BTreeMap<String, usize> = flows.iter().map(|f| (f.id.clone(), f.n)).collect();
    let faults_over = AtomicBool::new(false);
    let mut approvals_409 = 0;
    let mut publishes = 0;
    let counts = std::thread::scope(|scope| {
        let faults = scope.spawn(|| {
            let c = run_faults(&fleet, &redis, &pg, plan, &mut fault_rng, t0);
            faults_over.store(true, Ordering::SeqCst);
            c
        });
        // Drive the workload until every workflow completed (and the faults are over),
        // for at most the window and two minutes.
        let end = t0 + Duration::from_secs_f64(window + 120.0);
        let mut completed = 0;
        while Instant::now() < end
            && !(faults_over.load(Ordering::SeqCst) && completed == workflows)
        {
            if faults.is_finished() && !faults_over.load(Ordering::SeqCst) {
                break; // the fault thread panicked: its join below says why
            }
            let now = t0.elapsed().as_secs_f64();
            let (st, v) = fleet.call("GET", "/api/approvals?status=pending&limit=1000", None);
            assert_eq!(st, 200, "{v}");
            for a in v["approvals"].as_array().unwrap() {
                let Some(&n) = a["execution_id"].as_str().and_then(|id| by_id.get(id)) else {
                    panic!("an approval of no workflow of this test: {a}");
                };
                let f = &mut flows[n];
                if f.decided || now < f.approve_at {
                    continue;
                }
                let (st, r) = fleet.call(
                    "POST",
                    &format!("/api/approvals/{}", a["id"].as_str().unwrap()),
                    Some(&json!({ "decision": "approve", "comment": format!("chaos {n}") })),
                );
                // A 409: the decision was made by a try whose answer was lost.
                match st {
                    200 => {}
                    409 => approvals_409 += 1,
                    _ => panic!("deciding the approval of workflow {n}: {st} {r}"),
                }
                f.decided = true;
            }
            let (st, v) = fleet.call(
                "GET",
                "/api/workflows?status=waiting&bot=flow&limit=1000",
                None,
            );
            assert_eq!(st, 200, "{v}");
            for w in v["workflows"].as_array().unwrap() {
                let n = by_id[w["id"].as_str().unwrap()];
                let f = &mut flows[n];
                if w["waiting_for"]["kind"] != "event" || f.published || now < f.publish_at {
                    continue;
                }
                // Published once; a retry after a lost answer may store it twice, which
                // wakes nothing more (the wait takes the first).
                let (st, r) = fleet.call(
                    "POST",
                    "/api/events",
                    Some(&json!({ "name": format!("go-{n}"), "payload": { "n": n } })),
                );
                assert_eq!(st, 201, "publishing go-{n}: {r}");
                publishes += 1;
                f.published = true;
            }
            let (st, v) = fleet.call(
                "GET",
                "/api/workflows?status=completed&bot=flow&limit=1000",
                None,
            );
            assert_eq!(st, 200, "{v}");
            completed = v["workflows"].as_array().unwrap().len();
            std::thread::sleep(Duration::from_millis(200));
        }
        faults.join().unwrap()
    });
    let took = t0.elapsed().as_secs_f64();

    // From here on, PostgreSQL itself is the witness.
    let mut conn = PgConnection::establish(&pg.url("chaos")).unwrap();
    // `waiting_for` and `error` are read through Debug, in the failure message.
    #[allow(dead_code)]
    #[derive(diesel::QueryableByName, Debug)]
    struct Exec {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
        #[diesel(sql_type = diesel::sql_types::Text)]
        kind: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        status: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Jsonb>)]
        waiting_for: Option<Value>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Jsonb>)]
        result: Option<Value>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        error: Option<String>,
    }
    let execs: Vec<Exec> = diesel::sql_query(
        "SELECT id, kind, status, waiting_for, result, error FROM workflow_executions ORDER BY id",
    )
    .load(&mut conn)
    .unwrap();
    let logs = fleet.logs.lock().unwrap().clone();
    let unfinished: Vec<&Exec> = execs.iter().filter(|e| e.status != "completed").collect();
    assert!(
        unfinished.is_empty(),
        "CHAOS_SEED={seed}: after {took:.0} s, {} of {} executions did not complete:\n{:#?}\n\
         the test's view: {:?}\nserver logs: {logs:#?}",
        unfinished.len(),
        execs.len(),
        unfinished,
        flows
            .iter()
            .map(|f| (f.n, f.decided, f.published))
            .collect::<Vec<_>>(),
    );
    let roots: Vec<&Exec> = execs.iter().filter(|e| e.kind == "workflow").collect();
    let tasks = execs.iter().filter(|e| e.kind == "task").count();
    assert_eq!(roots.len(), workflows, "{execs:#?}");
    assert_eq!(tasks, workflows, "one worker task per workflow: {execs:#?}");
    for e in &roots {
        let n = by_id[&e.id.to_string()];
        let r = e.result.clone().unwrap_or(Value::Null);
        assert_eq!(r["n"], n, "workflow {n}: {r}");
        assert_eq!(r["go"], n, "workflow {n} woken by its own event: {r}");
        assert_eq!(r["approval"], "approved", "workflow {n}: {r}");
    }

    // Each side effect exactly once per workflow, and for the workflows of this run only.
    let per_workflow = |conn: &mut PgConnection, table: &str| {
        count(
            conn,
            &format!(
                "SELECT count(*) AS n FROM (SELECT t.wf FROM {table} t JOIN workflow_executions e \
                 ON e.id::text = t.wf AND e.kind = 'workflow' GROUP BY t.wf HAVING count(*) = 1) x"
            ),
        )
    };
    let prepared = count(&mut conn, "SELECT count(*) AS n FROM bot_worker.prepared");
    let done = count(&mut conn, "SELECT count(*) AS n FROM bot_flow.done");
    assert_eq!(
        (prepared, per_workflow(&mut conn, "bot_worker.prepared")),
        (workflows as i64, workflows as i64),
        "CHAOS_SEED={seed}: rows of the worker's INSERT (all, and workflows with exactly one)"
    );
    assert_eq!(
        (done, per_workflow(&mut conn, "bot_flow.done")),
        (workflows as i64, workflows as i64),
        "CHAOS_SEED={seed}: rows of the last step's INSERT (all, and workflows with exactly one)"
    );
    let counters = count(
        &mut conn,
        "SELECT count(*) AS n FROM bot_memories WHERE bot = 'flow' AND key LIKE 'runs:%'",
    );
    let counters_at_one = count(
        &mut conn,
        "SELECT count(*) AS n FROM bot_memories WHERE bot = 'flow' AND key LIKE 'runs:%' \
         AND (value #>> '{}')::numeric = 1",
    );
    assert_eq!(
        (counters, counters_at_one),
        (workflows as i64, workflows as i64),
        "CHAOS_SEED={seed}: per-workflow memory counters (all, and those at exactly 1)"
    );
    let prepared_events = count(
        &mut conn,
        "SELECT count(*) AS n FROM workflow_events WHERE name = 'prepared'",
    );
    let prepared_event_ns = count(
        &mut conn,
        "SELECT count(DISTINCT payload->>'n') AS n FROM workflow_events WHERE name = 'prepared'",
    );
    assert_eq!(
        (prepared_events, prepared_event_ns),
        (workflows as i64, workflows as i64),
        "CHAOS_SEED={seed}: the worker's PUBLISH EVENT (all, and distinct workflows)"
    );
    let approvals = count(&mut conn, "SELECT count(*) AS n FROM approvals");
    let approved = count(
        &mut conn,
        "SELECT count(*) AS n FROM approvals WHERE status = 'approved'",
    );
    assert_eq!(
        (approvals, approved),
        (workflows as i64, workflows as i64),
        "CHAOS_SEED={seed}: one approval request per workflow, each approved"
    );
    let go_events = count(
        &mut conn,
        "SELECT count(*) AS n FROM workflow_events WHERE name LIKE 'go-%'",
    );

    println!(
        "chaos (CHAOS_SEED={seed}): {workflows} workflows completed in {took:.1} s; faults: \
         {} SIGKILLs ({} times both instances down), {} PostgreSQL restart, {} Redis outage; \
         side effects exactly once each: {prepared} worker rows, {prepared_events} worker \
         events, {approved} approvals ({approvals_409} decided by a lost try), {done} final rows, \
         {counters} memory counters at 1; {publishes} events published ({go_events} stored); \
         {} HTTP requests sent ({} tries again after a connection error or 503)",
        counts.kills,
        counts.both_down,
        counts.postgres_restarts,
        counts.redis_outages,
        fleet.requests.load(Ordering::Relaxed),
        fleet.retries.load(Ordering::Relaxed),
    );
    assert_eq!(counts.kills, kills, "{counts:?}");
    assert_eq!(
        (counts.postgres_restarts, counts.redis_outages),
        (1, 1),
        "{counts:?}"
    );
}
