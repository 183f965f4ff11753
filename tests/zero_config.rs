//! Zero-config database: with no `DATABASE_URL`, the binary makes and starts a private
//! PostgreSQL cluster under its data folder (next to any other such cluster, on a port of
//! its own), migrates it, and reuses it on the next start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::Mutex;

/// The private clusters of these tests start one at a time: each picks a free port, and
/// two picking at once could take the same one.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn migrate_without_database_url_uses_a_private_cluster() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!(
        "botserver-zeroconf-{}",
        uuid::Uuid::now_v7().simple()
    ));
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_botserver"))
            .args(["migrate", "--data-dir"])
            .arg(&dir)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    let first = run();
    let second = run();
    let _ = botserver::db::local::stop_cluster(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        first.status.success(),
        "{}{}",
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr)
    );
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
        .count();
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        format!("applied {migrations} migration(s)")
    );
    // The second start finds the same cluster, already migrated.
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&second.stdout).trim(),
        "applied 0 migration(s)"
    );
}

/// What `serve` starts it stops: the private cluster it started is not running after a
/// SIGTERM (its `postmaster.pid` is gone).
#[test]
fn serve_stops_the_private_cluster_it_started() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!(
        "botserver-zeroconf-serve-{}",
        uuid::Uuid::now_v7().simple()
    ));
    let bots = dir.join("bots");
    std::fs::create_dir_all(&bots).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_botserver"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .arg("--bots")
        .arg(&bots)
        .env_remove("DATABASE_URL")
        .env_remove("BOTSERVER_ADMIN_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let listening = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.starts_with("botserver listening on "));
    let pid_file = dir.join("pg").join("postmaster.pid");
    let ran = pid_file.exists();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let still_running = pid_file.exists();
    if still_running {
        let _ = botserver::db::local::stop_cluster(&dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        listening && ran,
        "the server did not start on its private cluster"
    );
    assert!(status.success(), "{status:?}");
    assert!(
        !still_running,
        "the private cluster still runs after serve stopped"
    );
}
