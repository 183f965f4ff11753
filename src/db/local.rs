//! Zero-config database (README, HTTP API): with no `DATABASE_URL`, the server keeps a private
//! PostgreSQL cluster under `./data/`, made and started with the PostgreSQL server
//! binaries installed on the machine (as the `postgres` user when run as root, since
//! PostgreSQL refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The first port tried for a private cluster; the one chosen is kept in `DIR/port`,
/// so that several clusters (a server's, the tests') can live side by side.
pub const FIRST_PORT: u16 = 54329;

fn free_port() -> Option<u16> {
    (FIRST_PORT..FIRST_PORT + 100).find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
}

fn bin_dir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").is_file() {
            return Some(dir);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as `postgres` when we are root.
fn run(tool: &Path, args: &[&str]) -> Result<(), String> {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(tool);
        c
    } else {
        Command::new(tool)
    };
    let out = cmd
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", tool.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} failed: {}{}",
            tool.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Makes sure the private cluster under `data_dir` exists and runs; returns its URL.
pub fn ensure_cluster(data_dir: &Path) -> Result<String, String> {
    start_cluster(data_dir).map(|(url, _)| url)
}

/// The private cluster, stopped when dropped if this process started it: what `serve`,
/// `migrate` or `bench` start, they stop; a cluster that was already running (another
/// process's) is left running.
pub struct ClusterGuard {
    data_dir: std::path::PathBuf,
}

impl Drop for ClusterGuard {
    fn drop(&mut self) {
        match stop_cluster(&self.data_dir) {
            Ok(()) => tracing::info!(
                "stopped the private PostgreSQL cluster under {}",
                self.data_dir.display()
            ),
            Err(e) => tracing::warn!("could not stop the private PostgreSQL cluster: {e}"),
        }
    }
}

/// As [`ensure_cluster`], with a guard that stops the cluster when this process started it.
pub fn cluster_for_this_process(data_dir: &Path) -> Result<(String, Option<ClusterGuard>), String> {
    let (url, started) = start_cluster(data_dir)?;
    Ok((
        url,
        started.then(|| ClusterGuard {
            data_dir: data_dir.to_path_buf(),
        }),
    ))
}

/// Makes sure the private cluster runs: its URL, and true when this call started it.
fn start_cluster(data_dir: &Path) -> Result<(String, bool), String> {
    let bin = bin_dir().ok_or_else(|| {
        "no DATABASE_URL is set and no PostgreSQL server binaries were found. \
         Install PostgreSQL (e.g. `apt install postgresql`) or set DATABASE_URL=postgres://user@host/db"
            .to_string()
    })?;
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let data_dir = data_dir
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", data_dir.display()))?;
    let pgdata = data_dir.join("pg");
    let socket = data_dir.join("socket");
    std::fs::create_dir_all(&socket)
        .map_err(|e| format!("cannot create {}: {e}", socket.display()))?;
    if is_root() {
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&data_dir)
            .status();
    }
    let pgdata_s = pgdata.to_string_lossy().to_string();
    if !pgdata.join("PG_VERSION").is_file() {
        run(
            &bin.join("initdb"),
            &[
                "-D",
                &pgdata_s,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        )?;
    }
    let port_file = data_dir.join("port");
    let stored: Option<u16> = std::fs::read_to_string(&port_file)
        .ok()
        .and_then(|p| p.trim().parse().ok());
    let running = run(&bin.join("pg_ctl"), &["-D", &pgdata_s, "status"]).is_ok();
    // A running cluster's port is in its postmaster.pid (line 4), whatever we stored.
    let live_port: Option<u16> = running
        .then(|| std::fs::read_to_string(pgdata.join("postmaster.pid")).ok())
        .flatten()
        .and_then(|pid| pid.lines().nth(3).and_then(|l| l.trim().parse().ok()));
    let port = match live_port {
        Some(p) => p,
        None => {
            let p = stored
                .filter(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
                .or_else(free_port)
                .ok_or("no free port for the private PostgreSQL cluster (tried 54329-54428)")?;
            std::fs::write(&port_file, p.to_string())
                .map_err(|e| format!("cannot write {}: {e}", port_file.display()))?;
            p
        }
    };
    if !running {
        let opts = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {}",
            socket.to_string_lossy()
        );
        let log = data_dir.join("postgres.log").to_string_lossy().to_string();
        run(
            &bin.join("pg_ctl"),
            &["-D", &pgdata_s, "-o", &opts, "-l", &log, "-w", "start"],
        )?;
    }
    Ok((
        format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        !running,
    ))
}

/// Stops the private cluster under `data_dir`, if it runs.
pub fn stop_cluster(data_dir: &Path) -> Result<(), String> {
    let bin = bin_dir().ok_or("no PostgreSQL server binaries")?;
    let pgdata = data_dir.join("pg").to_string_lossy().to_string();
    run(&bin.join("pg_ctl"), &["-D", &pgdata, "-m", "fast", "stop"])
}
