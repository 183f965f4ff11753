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
use crate::workflow::{scheduler, Runtime, RuntimeConfig};

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
    /// NOTIFY).
    pub schedule: bool,
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
            tracing::warn!("script not loaded: {p}");
        }
        let mut tasks = Vec::new();
        if opts.schedule {
            let scheduling = scheduler::run(rt.clone(), stopped.clone());
            tasks.push(tokio::spawn(async move {
                scheduling.await;
                Ok(())
            }));
        }
        let mut addr = None;
        if let Some((listener, config)) = opts.http {
            addr = Some(listener.local_addr().map_err(|e| e.to_string())?);
            let state = AppState {
                rt: rt.clone(),
                config: Arc::new(config),
            };
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
