//! `botserver serve` and `botserver migrate`: configuration, database, packages,
//! recovery, the HTTP server and the scheduler, and graceful shutdown on SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::db;
use crate::instance::{Instance, InstanceOptions};
use crate::server::ServerConfig;
use crate::workflow::RuntimeConfig;

/// Settings of `serve` (environment variables, overridden by flags).
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// `DATABASE_URL`: none means the zero-config cluster under `data_dir`.
    pub database_url: Option<String>,
    /// `REDIS_URL`: none means waking through PostgreSQL only.
    pub redis_url: Option<String>,
    /// The address to serve HTTP on.
    pub bind: String,
    /// The folder with the `*.gbai` packages.
    pub bots: PathBuf,
    /// `BOTSERVER_ADMIN_TOKEN`: none means development mode (loopback only).
    pub admin_token: Option<String>,
    /// This instance's name in leases (default random).
    pub instance: Option<String>,
    /// Where the zero-config cluster lives.
    pub data_dir: PathBuf,
}

/// The database URL: the one given, else the zero-config cluster under `data_dir`, with
/// the guard that stops that cluster when this process started it (keep it for as long
/// as the database is used).
pub fn database_url(
    given: Option<String>,
    data_dir: &Path,
) -> Result<(String, Option<db::local::ClusterGuard>), String> {
    match given.filter(|u| !u.trim().is_empty()) {
        Some(url) => Ok((url, None)),
        None => {
            let (url, guard) = db::local::cluster_for_this_process(data_dir)?;
            tracing::info!(
                "no DATABASE_URL: using the private cluster under {} ({})",
                data_dir.display(),
                if guard.is_some() {
                    "started now; stopped when this process ends"
                } else {
                    "already running"
                }
            );
            Ok((url, guard))
        }
    }
}

/// A database URL as it may be shown: without its password.
pub fn shown_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((user, host)) => {
                let user = user.split(':').next().unwrap_or(user);
                format!("{scheme}://{user}@{host}")
            }
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// `botserver migrate`: applies the embedded migrations to the database at `url`.
pub fn migrate(url: &str) -> Result<usize, String> {
    let mut conn = db::connect(url)?;
    db::migrate(&mut conn)
}

fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Runs the server until SIGTERM or Ctrl-C.
pub async fn serve(opts: ServeOptions) -> Result<(), String> {
    let addr: SocketAddr = opts
        .bind
        .parse()
        .map_err(|e| format!("invalid bind address '{}': {e}", opts.bind))?;
    if opts.admin_token.is_none() && !is_loopback(&addr) {
        return Err(format!(
            "refusing to bind {addr} without BOTSERVER_ADMIN_TOKEN: development mode only binds loopback addresses"
        ));
    }
    let data_dir = opts.data_dir.clone();
    let given = opts.database_url.clone();
    let (url, cluster) = tokio::task::spawn_blocking(move || database_url(given, &data_dir))
        .await
        .map_err(|e| e.to_string())??;
    let ran = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || migrate(&url))
            .await
            .map_err(|e| e.to_string())??
    };
    if ran > 0 {
        tracing::info!("applied {ran} migration(s)");
    }
    tracing::info!(database = %shown_url(&url), "database");
    let mut config = RuntimeConfig::default();
    // Tuning knobs for operators (and tests that exercise lease takeover).
    if let Some(secs) = std::env::var("BOTSERVER_LEASE_SECS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
    {
        config.lease_secs = secs.clamp(1.0, 600.0);
    }
    if let Some(n) = std::env::var("BOTSERVER_MAX_RUNS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        // 0 makes a front instance: it answers the API and runs conversations in their
        // requests, but leaves workflows, woken executions and handlers to the others.
        config.max_concurrent_runs = n.min(1024);
    }
    if let Ok(v) = std::env::var("BOTSERVER_FIND_MAX_ROWS") {
        config.find_max_rows = v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| format!("BOTSERVER_FIND_MAX_ROWS: '{v}' is not 1–1000000 rows"))?;
    }
    for (var, slot, max) in [
        ("BOTSERVER_MAX_DEPTH", &mut config.max_depth, 1000usize),
        ("BOTSERVER_MAX_TREE", &mut config.max_tree, 100_000_000),
        (
            "BOTSERVER_MAX_EVENT_CHAIN",
            &mut config.max_event_chain,
            1000,
        ),
        (
            "BOTSERVER_MAX_PUBLISH_PER_RUN",
            &mut config.max_publish_per_run,
            10_000_000,
        ),
        ("BOTSERVER_MAX_TALKS", &mut config.max_talks, 10_000_000),
        (
            "BOTSERVER_MAX_OUTPUT_BYTES",
            &mut config.max_output_bytes,
            1 << 34,
        ),
    ] {
        if let Ok(v) = std::env::var(var) {
            *slot = v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| format!("{var}: '{v}' is not a number from 1 to {max}"))?;
        }
    }
    let owner = opts
        .instance
        .clone()
        .unwrap_or_else(|| format!("botserver-{}", uuid::Uuid::now_v7()));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot bind {addr}: {e}"))?;
    let instance = Instance::start(InstanceOptions {
        database_url: url,
        redis_url: opts.redis_url.clone(),
        bots: opts.bots.clone(),
        owner,
        pool_size: config.max_concurrent_runs as u32 + 8,
        config,
        schedule: true,
        watch_bots: true,
        http: Some((
            listener,
            ServerConfig {
                admin_token: opts.admin_token.clone(),
                redis_url: opts.redis_url.clone(),
                public_rate: crate::server::ratelimit::RateLimit::from_env()?,
                ..ServerConfig::default()
            },
        )),
    })
    .await?;
    let local = instance.addr.ok_or("the HTTP server has no address")?;
    let shutdown = shutdown_signal();
    // Tests and scripts read this line to find the port when binding port 0.
    println!("botserver listening on http://{local}");
    let bots: Vec<String> = instance.rt.bot_list().into_iter().map(|b| b.0).collect();
    tracing::info!(
        bots = %bots.join(", "),
        redis = if opts.redis_url.is_some() { "on" } else { "off (wake-ups by PostgreSQL NOTIFY)" },
        "serving {} bot(s) from {}",
        bots.len(),
        opts.bots.display()
    );
    shutdown.await;
    tracing::info!("shutting down: finishing runs in progress, releasing leases");
    let stopped = instance.stop().await;
    // The private cluster this process started stops last, after every run is done.
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .map_err(|e| e.to_string())?;
    stopped
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called, not
/// when it is first awaited, so a signal that comes right after "listening" is not lost.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term_stream =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        shutdown_signal_from(
            #[cfg(unix)]
            term_stream,
        )
        .await
    }
}

async fn shutdown_signal_from(#[cfg(unix)] term_stream: Option<tokio::signal::unix::Signal>) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match term_stream {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
