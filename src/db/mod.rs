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
pub mod start_keys;
pub mod states;
pub mod steps;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, ManageConnection, Pool, PooledConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// The migrations under `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The connection pool.
pub type PgPool = Pool<Checked>;
/// A connection taken from the pool.
pub type PgConn = PooledConnection<Checked>;

/// Until when (milliseconds since the epoch) the pool pings its connections: set for a
/// while after a query failed because its connection was lost (a database restart, a
/// terminated backend), when the idle connections of the pool are likely dead too.
static SUSPECT_UNTIL_MS: AtomicU64 = AtomicU64::new(0);

/// How long connections stay suspect after a lost one.
const SUSPECT_FOR_MS: u64 = 30_000;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A connection was lost: check every connection taken from or given back to the pool
/// for the next 30 s, so that dead ones are dropped instead of failing their next use.
pub fn suspect_connections() {
    SUSPECT_UNTIL_MS.store(now_ms() + SUSPECT_FOR_MS, Ordering::Relaxed);
}

fn suspect() -> bool {
    SUSPECT_UNTIL_MS.load(Ordering::Relaxed) > now_ms()
}

/// True when the error says the connection itself is gone (not the statement's fault).
pub fn connection_lost(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) => true,
        DieselError::DatabaseError(_, info) => {
            let m = info.message();
            m.contains("terminating connection")
                || m.contains("server closed the connection")
                || m.contains("no connection to the server")
                || m.contains("connection to server")
        }
        DieselError::BrokenTransactionManager => true,
        _ => false,
    }
}

/// The pool's connection manager: diesel's, with a check of each connection taken from
/// or returned to the pool while connections are suspect ([`suspect_connections`]), and
/// none otherwise (a `SELECT 1` per checkout would be a round trip on every path).
#[derive(Debug)]
pub struct Checked(ConnectionManager<PgConnection>);

impl ManageConnection for Checked {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        self.0.connect()
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        if suspect() {
            self.0.is_valid(conn)
        } else {
            Ok(())
        }
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        self.0.has_broken(conn) || (suspect() && self.0.is_valid(conn).is_err())
    }
}

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
    let manager = Checked(ConnectionManager::<PgConnection>::new(target));
    Pool::builder()
        .max_size(size)
        .min_idle(Some(size.min(4)))
        // A connection is checked when taken only while connections are suspect (a lost
        // one was seen lately): no round trip per checkout otherwise. A dead connection
        // found so is dropped and another one taken.
        .test_on_check_out(true)
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
