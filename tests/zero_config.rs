//! Zero-config database: with no `DATABASE_URL`, the binary makes and starts a private
//! PostgreSQL cluster under its data folder (next to any other such cluster, on a port of
//! its own), migrates it, and reuses it on the next start.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn migrate_without_database_url_uses_a_private_cluster() {
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
    assert_eq!(
        String::from_utf8_lossy(&first.stdout).trim(),
        "applied 2 migration(s)"
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
