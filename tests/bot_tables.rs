//! A bot's TABLE definitions become real tables of its own schema when the package loads,
//! grow when a column is added (live, without a restart), and are never changed in a way
//! that loses data: dropping a column from the definition is refused with the file and
//! line, and the column and its data stay.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{eventually, BotDir, Server};

fn columns(db: &TestDb) -> i64 {
    db.count(
        "SELECT count(*) AS n FROM information_schema.columns \
         WHERE table_schema = 'bot_shop' AND table_name = 'orders'",
    )
}

#[test]
fn definitions_create_and_extend_tables_and_never_drop_a_column() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("shop", "start", "TALK \"hi\"\n");
    bots.script(
        "shop",
        "tables",
        "TABLE orders\n  id INTEGER KEY\n  customer STRING(80)\n  total NUMBER(10,2) DEFAULT 0\nEND TABLE\n",
    );
    let s = Server::start(&db.url, &bots.path);
    assert_eq!(columns(&db), 3);
    let mut conn = db.conn();
    use diesel::RunQueryDsl;
    diesel::sql_query("INSERT INTO bot_shop.orders (id, customer) VALUES (1, 'Ana')")
        .execute(&mut conn)
        .unwrap();

    // Dropping `customer` is refused (and nothing else of that change is applied).
    bots.script(
        "shop",
        "tables",
        "TABLE orders\n  id INTEGER KEY\n  total NUMBER(10,2) DEFAULT 0\n  paid BOOLEAN\nEND TABLE\n",
    );
    eventually(20.0, "the refusal in the log", || {
        let log = s.log_text();
        if log.contains("tables.bas:1:1: TABLE orders: column 'customer' exists with data") {
            Ok(())
        } else {
            Err(log)
        }
    });
    assert_eq!(columns(&db), 3);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM bot_shop.orders WHERE customer = 'Ana'"),
        1
    );

    // Adding a column is applied, live.
    bots.script(
        "shop",
        "tables",
        "TABLE orders\n  id INTEGER KEY\n  customer STRING(80)\n  total NUMBER(10,2) DEFAULT 0\n  paid BOOLEAN\nEND TABLE\n",
    );
    eventually(20.0, "the new column", || {
        if columns(&db) == 4 {
            Ok(())
        } else {
            Err(format!("{} columns", columns(&db)))
        }
    });
}
