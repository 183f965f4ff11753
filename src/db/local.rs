//! Zero-config database (DESIGN §5): with no `DATABASE_URL`, the server keeps a private
//! PostgreSQL cluster under `./data/`, made and started with the PostgreSQL server
//! binaries installed on the machine (as the `postgres` user when run as root, since
//! PostgreSQL refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The port of the private cluster.
pub const PORT: u16 = 54329;

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
    let running = run(&bin.join("pg_ctl"), &["-D", &pgdata_s, "status"]).is_ok();
    if !running {
        let opts = format!(
            "-p {PORT} -c listen_addresses=127.0.0.1 -k {}",
            socket.to_string_lossy()
        );
        let log = data_dir.join("postgres.log").to_string_lossy().to_string();
        run(
            &bin.join("pg_ctl"),
            &["-D", &pgdata_s, "-o", &opts, "-l", &log, "-w", "start"],
        )?;
    }
    Ok(format!("postgres://postgres@127.0.0.1:{PORT}/postgres"))
}
