//! The bench's bots, databases and instances (each a real [`Instance`], several in
//! this process, talking only through PostgreSQL and Redis as separate servers would).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diesel::RunQueryDsl;
use uuid::Uuid;

use crate::db;
use crate::instance::{Instance, InstanceOptions};
use crate::server::ServerConfig;
use crate::wakeup::RedisState;
use crate::workflow::{Runtime, RuntimeConfig};

const BENCH: &[(&str, &str)] = &[
    ("three", "STEP 1: x = x + 1\nSTEP 2: x = x + 1\nSTEP 3: x = x + 1\nRETURN x\n"),
    (
        "delegate",
        "STEP 1: BOT \"worker\" \"noop\"\nSTEP 2: BOT \"worker\" \"noop\"\nSTEP 3: BOT \"worker\" \"noop\"\nRETURN result\n",
    ),
    (
        "seed",
        "STEP 1: BOT \"worker\" \"classify\"\nSTEP 2: BOT \"worker\" \"check order\"\nSTEP 3: PARALLEL\n  BRANCH A: BOT \"worker\" \"refund\"\n  BRANCH B: BOT \"worker\" \"update stock\"\nEND PARALLEL\nRETURN result\n",
    ),
    ("waiter", "WAIT FOR EVENT n\nRETURN 1\n"),
    ("parked", "WAIT 36000\n"),
    ("sleeper", "WAIT 1\nRETURN 1\n"),
];

/// Writes the bench's packages (`bench`, `worker`, `chat`) under `dir`.
pub fn write_bots(dir: &Path) -> std::io::Result<()> {
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
    let chat = dir.join("chat.gbai").join("chat.gbdialog");
    std::fs::create_dir_all(&chat)?;
    std::fs::write(
        chat.join("start.bas"),
        "DO\n  HEAR text\n  TALK \"echo: \" + text\nLOOP\n",
    )?;
    Ok(())
}

/// An instance named `name` on the bench database; `serving` adds the scheduler and the
/// HTTP server. An instance with `slots` = 0 never runs what it wakes: another instance
/// must be woken for that.
pub async fn start(
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
    let http = if serving {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let config = ServerConfig {
            redis_url: redis.clone(),
            ..ServerConfig::default()
        };
        Some((listener, config))
    } else {
        None
    };
    let inst = Instance::start(InstanceOptions {
        database_url: url.to_string(),
        redis_url: redis.clone(),
        bots: bots.to_path_buf(),
        owner: name.to_string(),
        pool_size: config.max_concurrent_runs as u32 * 2 + 8,
        config,
        watch_bots: false,
        schedule: serving,
        http,
    })
    .await?;
    if redis.is_some() {
        // Give the subscription a moment so that the first wake-ups are not lost.
        for _ in 0..100 {
            if inst.rt.bus.redis() == RedisState::Ok {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(inst)
}

/// Runs a `SELECT count(*) AS n …` on the bench database.
pub async fn count(rt: &Arc<Runtime>, sql: &'static str) -> Result<i64, String> {
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

/// Runs a `SELECT count(*) AS n … $1 …` on the bench database, with `$1` bound to `param`.
pub async fn count_with(rt: &Arc<Runtime>, sql: &'static str, param: &str) -> Result<i64, String> {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let rt = rt.clone();
    let param = param.to_string();
    tokio::task::spawn_blocking(move || {
        let mut c = rt.conn().map_err(|e| e.to_string())?;
        let rows: Vec<N> = diesel::sql_query(sql)
            .bind::<diesel::sql_types::Text, _>(param)
            .load(&mut *c)
            .map_err(|e| e.to_string())?;
        Ok(rows.first().map(|r| r.n).unwrap_or(0))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// A fresh database on the server of `url`, dropped by [`drop_database`].
pub fn create_database(url: &str) -> Result<(String, String), String> {
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

/// Drops a database made by [`create_database`].
pub fn drop_database(url: &str, name: &str) {
    if let Ok(mut admin) = db::connect(url) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
    }
}
