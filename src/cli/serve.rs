//! `botserver serve` and `botserver migrate`: configuration, database, packages,
//! recovery, the HTTP server and the scheduler, and graceful shutdown on SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::bots;
use crate::db;
use crate::db::leases;
use crate::server::{self, AppState, ServerConfig};
use crate::workflow::{scheduler, Runtime, RuntimeConfig};

/// Settings of `serve` (environment variables, overridden by flags).
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub bind: String,
    pub bots: PathBuf,
    pub admin_token: Option<String>,
    pub instance: Option<String>,
    pub data_dir: PathBuf,
}

/// The database URL: the one given, else the zero-config cluster under `data_dir`.
pub fn database_url(given: Option<String>, data_dir: &Path) -> Result<String, String> {
    match given.filter(|u| !u.trim().is_empty()) {
        Some(url) => Ok(url),
        None => {
            let url = db::local::ensure_cluster(data_dir)?;
            tracing::info!(
                "no DATABASE_URL: using the private cluster under {}",
                data_dir.display()
            );
            Ok(url)
        }
    }
}

/// `botserver migrate`.
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
    let url = tokio::task::spawn_blocking(move || database_url(given, &data_dir))
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
    let pool = db::pool(&url, config.max_concurrent_runs as u32 + 8)?;
    let owner = opts
        .instance
        .clone()
        .unwrap_or_else(|| format!("botserver-{}", uuid::Uuid::now_v7()));
    let rt = Runtime::new(pool, config, owner);
    let packages = bots::load_packages(&opts.bots).map_err(|e| e.to_string())?;
    {
        let rt = rt.clone();
        let problems = tokio::task::spawn_blocking(move || rt.load_packages(packages))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("loading packages failed: {e}"))?;
        for p in problems {
            tracing::warn!("script not loaded: {p}");
        }
    }
    // Recovery: leases this instance name held before a restart are free at once;
    // other lapsed leases and due timers are claimed by the scheduler's first pass.
    {
        let rt = rt.clone();
        let _ = tokio::task::spawn_blocking(move || {
            rt.conn()
                .ok()
                .map(|mut c| leases::release_all(&mut c, &rt.owner))
        })
        .await;
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot bind {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    // Tests and scripts read this line to find the port when binding port 0.
    println!("botserver listening on http://{local}");
    tracing::info!(bots = ?rt.bot_list().iter().map(|b| b.0.clone()).collect::<Vec<_>>(), "serving");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let announcer = crate::events::start(
        rt.clone(),
        opts.redis_url.clone(),
        rt.redis.clone(),
        stop_rx.clone(),
    );
    let _ = rt.announcer.set(announcer);
    let sched = tokio::spawn(scheduler::run(rt.clone(), stop_rx));
    let state = AppState {
        rt: rt.clone(),
        config: Arc::new(ServerConfig {
            admin_token: opts.admin_token.clone(),
            redis_url: opts.redis_url.clone(),
            ..ServerConfig::default()
        }),
    };
    let shutdown = async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing runs in progress, releasing leases");
        let _ = stop_tx.send(true);
    };
    server::serve(listener, state, shutdown)
        .await
        .map_err(|e| format!("server error: {e}"))?;
    let _ = sched.await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
