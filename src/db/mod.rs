//! PostgreSQL through Diesel: the connection pool, the embedded migrations, and one
//! file per table family with its queries. Every query function takes a connection,
//! so several compose inside one transaction.

pub mod approvals;
pub mod events;
pub mod executions;
pub mod local;
pub mod memory;
pub mod scripts;

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// The migrations under `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type PgPool = Pool<ConnectionManager<PgConnection>>;
pub type PgConn = PooledConnection<ConnectionManager<PgConnection>>;

/// A pool of `size` connections to `url`.
pub fn pool(url: &str, size: u32) -> Result<PgPool, String> {
    let manager = ConnectionManager::<PgConnection>::new(url);
    Pool::builder()
        .max_size(size)
        .min_idle(Some(size.min(4)))
        .connection_timeout(std::time::Duration::from_secs(10))
        .build(manager)
        .map_err(|e| format!("cannot connect to PostgreSQL at {}: {e}", redact(url)))
}

/// Runs the pending migrations; returns how many ran. Several instances starting at
/// once on a fresh database take turns (a session advisory lock), so only one migrates.
pub fn migrate(conn: &mut PgConnection) -> Result<usize, String> {
    use diesel::RunQueryDsl;
    diesel::sql_query("SELECT pg_advisory_lock(7231, 1)")
        .execute(conn)
        .map_err(|e| format!("cannot lock for migrations: {e}"))?;
    let ran = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|v| v.len())
        .map_err(|e| format!("migration failed: {e}"));
    let _ = diesel::sql_query("SELECT pg_advisory_unlock(7231, 1)").execute(conn);
    ran
}

/// Reverts every migration (used by the up → down → up test).
pub fn revert_all(conn: &mut PgConnection) -> Result<usize, String> {
    conn.revert_all_migrations(MIGRATIONS)
        .map(|v| v.len())
        .map_err(|e| format!("reverting migrations failed: {e}"))
}

/// Connects once (no pool), for migrations and tools.
pub fn connect(url: &str) -> Result<PgConnection, String> {
    PgConnection::establish(url)
        .map_err(|e| format!("cannot connect to PostgreSQL at {}: {e}", redact(url)))
}

/// The URL with any password hidden, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
