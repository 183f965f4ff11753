//! One server instance in a process: its pool, wake-up bus, runtime, loaded packages,
//! scheduler and HTTP server, started by [`Instance::start`] and stopped by
//! [`Instance::stop`]. `botserver serve` runs one; `botserver bench` runs several in
//! one process, talking only through PostgreSQL and Redis as separate servers would.

#![warn(missing_docs)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;

use crate::db::{self, leases};
use crate::server::{self, AppState, ServerConfig};
use crate::wakeup::WakeBus;
use crate::workflow::{scheduler, schedules, Runtime, RuntimeConfig};

/// How to start an instance.
pub struct InstanceOptions {
    /// The migrated database.
    pub database_url: String,
    /// Redis for waking the other instances (none: PostgreSQL only).
    pub redis_url: Option<String>,
    /// The folder whose `*.gbai` packages are loaded.
    pub bots: PathBuf,
    /// This instance's name in leases.
    pub owner: String,
    /// The runtime's tunables.
    pub config: RuntimeConfig,
    /// Connections in the pool.
    pub pool_size: u32,
    /// Runs the scheduler (claims runnable executions, renews leases, listens for
    /// NOTIFY) and fires due `SET SCHEDULE` ticks.
    pub schedule: bool,
    /// Watches the bots folder and loads new and changed packages while running.
    pub watch_bots: bool,
    /// Serves the HTTP API on this listener.
    pub http: Option<(tokio::net::TcpListener, ServerConfig)>,
}

/// A started instance.
pub struct Instance {
    /// The instance's runtime.
    pub rt: Arc<Runtime>,
    /// Where the HTTP API listens, when it is served.
    pub addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<Result<(), String>>>,
}

impl Instance {
    /// Starts an instance on a migrated database. Scripts that do not compile are
    /// logged and skipped. Leases held under this instance's name before (a restart)
    /// are released at once; the scheduler's first pass claims them with the other
    /// lapsed leases and due timers.
    pub async fn start(opts: InstanceOptions) -> Result<Instance, String> {
        let (stop, stopped) = watch::channel(false);
        let pool = db::pool(&opts.database_url, opts.pool_size)?;
        let bus = WakeBus::start(opts.redis_url, stopped.clone());
        let rt = Runtime::new(pool, opts.config, opts.owner, bus);
        let packages = crate::bots::load_packages(&opts.bots).map_err(|e| e.to_string())?;
        let rt2 = rt.clone();
        let problems = tokio::task::spawn_blocking(move || {
            let problems = rt2.load_packages(packages)?;
            let mut conn = rt2.conn()?;
            leases::release_all(&mut conn, &rt2.owner)?;
            Ok::<_, crate::error::Error>(problems)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("loading packages failed: {e}"))?;
        for p in problems {
            tracing::warn!("not loaded: {p}");
        }
        let mut tasks = Vec::new();
        if opts.schedule {
            let scheduling = scheduler::run(rt.clone(), stopped.clone());
            tasks.push(tokio::spawn(async move {
                scheduling.await;
                Ok(())
            }));
            let firing = schedules::run(rt.clone(), stopped.clone());
            tasks.push(tokio::spawn(async move {
                firing.await;
                Ok(())
            }));
        }
        if opts.watch_bots {
            let watching = watch_bots(rt.clone(), opts.bots.clone(), stopped.clone());
            tasks.push(tokio::spawn(async move {
                watching.await;
                Ok(())
            }));
        }
        let mut addr = None;
        if let Some((listener, config)) = opts.http {
            addr = Some(listener.local_addr().map_err(|e| e.to_string())?);
            let state = AppState::new(rt.clone(), config);
            let mut stopped = stopped.clone();
            tasks.push(tokio::spawn(async move {
                let shutdown = async move {
                    let _ = stopped.changed().await;
                };
                server::serve(listener, state, shutdown)
                    .await
                    .map_err(|e| format!("server error: {e}"))
            }));
        }
        Ok(Instance {
            rt,
            addr,
            stop,
            tasks,
        })
    }

    /// Stops the instance: the HTTP server stops accepting and finishes its requests,
    /// the scheduler lets the runs in progress finish and releases the leases. The
    /// HTTP server's error, if it had one.
    pub async fn stop(self) -> Result<(), String> {
        let _ = self.stop.send(true);
        let mut result = Ok(());
        for t in self.tasks {
            match t.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => result = Err(e),
                Err(e) => result = Err(e.to_string()),
            }
        }
        result
    }
}

/// How often the bots folder is looked at for new or changed packages.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// What the bots folder holds now: every `.bas` and `config.csv` with its size and
/// modification time, hashed. A change of any of them changes the value.
fn fingerprint(dir: &std::path::Path) -> u64 {
    use std::hash::{Hash, Hasher};
    fn walk(dir: &std::path::Path, out: &mut Vec<(PathBuf, u64, Option<std::time::SystemTime>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "bas")
                || path.file_name().is_some_and(|n| n == "config.csv")
            {
                let meta = entry.metadata().ok();
                out.push((
                    path,
                    meta.as_ref().map_or(0, |m| m.len()),
                    meta.and_then(|m| m.modified().ok()),
                ));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    files.hash(&mut h);
    h.finish()
}

/// Loads new and changed packages of the bots folder while the instance runs: a new
/// `.bas` file or `.gbai` package is served within a few seconds, without a restart.
/// Running executions stay on the script versions they started on; a package removed
/// from the folder stays loaded until the next start. The folder is polled (every two
/// seconds) rather than watched through the file system's notifications, which some
/// file systems (network and container mounts) do not give.
async fn watch_bots(rt: Arc<Runtime>, dir: PathBuf, mut stopped: watch::Receiver<bool>) {
    let d = dir.clone();
    let mut seen = tokio::task::spawn_blocking(move || fingerprint(&d))
        .await
        .unwrap_or(0);
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            _ = tokio::time::sleep(WATCH_INTERVAL) => {}
        }
        let (d, rt2) = (dir.clone(), rt.clone());
        let reloaded = tokio::task::spawn_blocking(move || {
            let now = fingerprint(&d);
            if now == seen {
                return Ok(None);
            }
            let packages = crate::bots::load_packages(&d).map_err(|e| e.to_string())?;
            let names: Vec<String> = packages.iter().map(|p| p.name.clone()).collect();
            let problems = rt2.load_packages(packages).map_err(|e| e.to_string())?;
            Ok::<_, String>(Some((now, names, problems)))
        })
        .await;
        match reloaded {
            Ok(Ok(Some((now, names, problems)))) => {
                seen = now;
                tracing::info!(bots = %names.join(", "), "bots folder changed: packages loaded again");
                for p in problems {
                    tracing::warn!("not loaded: {p}");
                }
            }
            Ok(Ok(None)) => {}
            // A half-written package or a database hiccup: tried again at the next look.
            Ok(Err(e)) => tracing::warn!("bots folder changed but could not be loaded: {e}"),
            Err(e) => tracing::warn!("watching the bots folder: {e}"),
        }
    }
}
