//! The connection pool reaches a PostgreSQL on this machine through its Unix socket when
//! `socket_url` finds one leading to the same server and database, and over TCP
//! otherwise; a URL naming a `host=` is left alone (and the pool connects where it
//! says), and a loopback port where nothing
//! listens gives no socket URL (no panic).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use diesel::pg::PgConnection;
use diesel::RunQueryDsl;

/// How a connection reached the server, and which database it is in.
#[derive(diesel::QueryableByName, Debug)]
struct Reached {
    /// `inet_server_addr()` is NULL on a Unix-socket connection.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    socket: bool,
    #[diesel(sql_type = diesel::sql_types::Text)]
    database: String,
}

fn reached(conn: &mut PgConnection) -> Reached {
    diesel::sql_query(
        "SELECT inet_server_addr() IS NULL AS socket, current_database()::text AS database",
    )
    .get_result(conn)
    .expect("querying the connection")
}

fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

#[test]
fn the_pool_uses_the_unix_socket_of_a_local_server_when_it_can() {
    let db = TestDb::new();
    let socket = botserver::db::socket_url(&db.url);
    let pool = botserver::db::pool(&db.url, 2).expect("pool");
    // Both connections of the pool, held at once, reach the server the same way.
    let mut c1 = pool.get().expect("first connection");
    let mut c2 = pool.get().expect("second connection");
    for conn in [&mut c1, &mut c2] {
        let r = reached(conn);
        assert_eq!(r.database, db.name, "{r:?}");
        match &socket {
            Some(u) => {
                assert!(u.contains("host="), "{u}");
                assert!(
                    r.socket,
                    "socket_url gave {u}, yet the pool's connection is over TCP: {r:?}"
                );
            }
            None => assert!(
                !r.socket,
                "no socket URL, yet the pool's connection is not over TCP: {r:?}"
            ),
        }
    }
    eprintln!(
        "socket_url({}) = {socket:?}",
        botserver::db::redact(&db.url)
    );
    // The socket URL itself names a `host=`: asked again, it is left alone.
    if let Some(u) = &socket {
        assert_eq!(botserver::db::socket_url(u), None, "{u}");
    }
}

#[test]
fn a_url_naming_a_host_param_is_left_alone() {
    let db = TestDb::new();
    for param in [
        "host=127.0.0.1",
        "host=/var/run/postgresql",
        "host=localhost",
    ] {
        let url = with_param(&db.url, param);
        assert_eq!(botserver::db::socket_url(&url), None, "{url}");
    }
    // The pool then connects as told: over TCP to 127.0.0.1.
    let pool = botserver::db::pool(&with_param(&db.url, "host=127.0.0.1"), 1).expect("pool");
    let r = reached(&mut pool.get().expect("connection"));
    assert!(!r.socket, "host=127.0.0.1 yet over the socket: {r:?}");
    assert_eq!(r.database, db.name, "{r:?}");
    // Nor is a server elsewhere looked at (the name is not even resolved).
    assert_eq!(
        botserver::db::socket_url("postgres://u@db.example.invalid:5432/db"),
        None
    );
}

#[test]
fn a_loopback_port_where_nothing_listens_gives_no_socket_url() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
        // Closed here: nothing listens on it any more.
    };
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("postgres://postgres@{host}:{port}/postgres");
        assert_eq!(botserver::db::socket_url(&url), None, "{url}");
    }
}
