//! Per-test databases: one migrated template per migration set, and a fresh
//! `CREATE DATABASE … TEMPLATE` for each test, dropped when the test ends.

use std::sync::OnceLock;

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};

/// The server URL tests use: `DATABASE_URL`, else the zero-config cluster.
pub fn server_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => botserver::db::local::ensure_cluster(std::path::Path::new("target/test-pg"))
            .expect("no DATABASE_URL and no local PostgreSQL could be started"),
    })
    .clone()
}

/// `url` with its database name replaced.
pub fn url_for(db: &str) -> String {
    let base = server_url();
    let (prefix, rest) = base
        .rsplit_once('/')
        .expect("DATABASE_URL has no database name");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{prefix}/{db}{query}")
}

fn admin() -> PgConnection {
    PgConnection::establish(&server_url()).expect("cannot connect to the test PostgreSQL")
}

fn migrations_hash() -> String {
    let mut files: Vec<_> =
        walk(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"));
    files.sort();
    let mut text = String::new();
    for f in files {
        text.push_str(&f.display().to_string());
        text.push_str(&std::fs::read_to_string(&f).unwrap_or_default());
    }
    botserver::basic::content_hash(&text)[..12].to_string()
}

fn walk(dir: std::path::PathBuf) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The migrated template database, made once (across test processes) under a lock.
fn template() -> String {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let name = format!("botserver_tpl_{}", migrations_hash());
        let mut conn = admin();
        diesel::sql_query("SELECT pg_advisory_lock(424242)")
            .execute(&mut conn)
            .unwrap();
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let exists: Vec<N> = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"
        ))
        .load(&mut conn)
        .unwrap();
        if exists[0].n == 0 {
            // Built under a temporary name and renamed when complete, so a crash midway
            // never leaves a half-migrated template behind.
            let tmp = format!("{name}_building");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {tmp} WITH (FORCE)"))
                .execute(&mut conn)
                .unwrap();
            diesel::sql_query(format!("CREATE DATABASE {tmp}"))
                .execute(&mut conn)
                .unwrap();
            {
                let mut c = PgConnection::establish(&url_for(&tmp)).unwrap();
                botserver::db::migrate(&mut c).unwrap();
            }
            diesel::sql_query(format!("ALTER DATABASE {tmp} RENAME TO {name}"))
                .execute(&mut conn)
                .unwrap();
        }
        diesel::sql_query("SELECT pg_advisory_unlock(424242)")
            .execute(&mut conn)
            .unwrap();
        name
    })
    .clone()
}

/// A fresh migrated database for one test; dropped on drop.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        let tpl = template();
        let name = format!("t_{}", uuid::Uuid::now_v7().simple());
        let mut conn = admin();
        let mut tries = 0;
        loop {
            match diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {tpl}"))
                .execute(&mut conn)
            {
                Ok(_) => break,
                // Another test may be copying the template at this instant.
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => panic!("cannot create test database: {e}"),
            }
        }
        TestDb {
            url: url_for(&name),
            name,
        }
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("cannot connect to the test database")
    }

    /// Runs a query returning one BIGINT column named `n`.
    pub fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Vec<N> = diesel::sql_query(sql).load(&mut self.conn()).unwrap();
        rows[0].n
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&server_url()) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}
