//! The data keywords on a bot's own tables, against the real PostgreSQL: FIND, SAVE,
//! INSERT (both forms), UPDATE, DELETE and MERGE give rows, rows counts and summaries;
//! a filter with SQL in it stays data; a bot reaches only its own tables; the tables are
//! visible through the API; and writes are exactly once across SIGKILLs, because they
//! commit with the journal entries that record them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{eventually, BotDir, Server};
use serde_json::{json, Value};

const TABLES: &str = "TABLE orders\n  id INTEGER KEY\n  customer STRING(80)\n  total NUMBER(10,2) DEFAULT 0\n  status STRING(20) DEFAULT \"open\"\nEND TABLE\n";

const FLOW: &str = r#"customer = "Ana"
total = 12.5
' The variables' names are the columns.
SAVE "orders", 1, customer, total
' The map form, on the same id: an update.
SAVE "orders", 1, #{ total: 20 }
r = INSERT "orders", { id: 2, customer: "Bo", total: 7 }
INSERT INTO "orders" WITH id = 3, customer = "Cy",
    total = 99
n = UPDATE "orders", "customer=Bo", { status: "paid" }
rows = FIND "orders", "total > 10"
m = MERGE "orders", [{ id: 3, total: 99 }, { id: 4, customer: "Di" }, { id: 2, total: 8 }], "id"
evil = FIND "orders", "customer = 'x''; DROP TABLE orders; --'"
TRY
  bad = FIND "orders", "id = 1; DROP TABLE orders"
CATCH
  bad = err
END TRY
TRY
  dup = INSERT "orders", { id: 1, customer: "again" }
CATCH
  dup = err
END TRY
d = DELETE "orders", "id=4"
all = FIND("orders", "")
RETURN { inserted: r, updated: n, found: rows, merged: m, evil: evil, bad: bad, dup: dup, deleted: d, all: all }
"#;

fn ids(rows: &Value) -> Vec<i64> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn keywords_read_and_write_the_bots_own_tables() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("shop", "tables", TABLES)
        .script("shop", "flow", FLOW)
        .script(
            "other",
            "peek",
            "TRY\n  x = FIND \"orders\", \"\"\nCATCH\n  x = err\nEND TRY\nTRY\n  y = FIND \"bot_shop.orders\", \"\"\nCATCH\n  y = err\nEND TRY\nRETURN { x: x, y: y }\n",
        );
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("shop", "flow", json!({}));
    let v = s.workflow_result(&id);
    assert_eq!(v["status"], "completed", "{v}");
    let r = &v["result"];

    assert_eq!(r["inserted"]["id"], 2, "INSERT gives the stored row: {r}");
    assert_eq!(r["inserted"]["status"], "open", "with its defaults: {r}");
    assert_eq!(r["updated"], 1);
    assert_eq!(ids(&r["found"]), vec![1, 3]);
    assert_eq!(r["found"][0]["customer"], "Ana");
    assert_eq!(r["found"][0]["total"].as_f64(), Some(20.0));
    assert_eq!(
        r["merged"],
        json!({ "inserted": 1, "updated": 1, "unchanged": 1, "total": 3 })
    );
    assert_eq!(r["evil"], json!([]), "SQL inside a value is a value");
    let bad = r["bad"].as_str().unwrap();
    assert!(
        bad.contains("FIND \"orders\"") && bad.contains("filter"),
        "{bad}"
    );
    let dup = r["dup"].as_str().unwrap();
    assert!(
        dup.contains("INSERT \"orders\"") && dup.contains("duplicate"),
        "{dup}"
    );
    assert_eq!(r["deleted"], 1);
    assert_eq!(ids(&r["all"]), vec![1, 2, 3]);
    assert_eq!(r["all"][1]["status"], "paid");
    assert_eq!(r["all"][1]["total"].as_f64(), Some(8.0));

    // The table is intact, and holds what the run said.
    assert_eq!(db.count("SELECT count(*) AS n FROM bot_shop.orders"), 3);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM bot_shop.orders WHERE id = 1 AND customer = 'Ana' AND total = 20"),
        1
    );

    // Another bot does not see them.
    let id = s.start_workflow("other", "peek", json!({}));
    let v = s.workflow_result(&id);
    let x = v["result"]["x"].as_str().unwrap();
    assert!(x.contains("bot 'other' has no table 'orders'"), "{x}");
    let y = v["result"]["y"].as_str().unwrap();
    assert!(y.contains("is not a table name"), "{y}");

    // The API shows the tables and their rows.
    let (st, t) = s.get("/api/bots/shop/tables");
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["tables"][0]["name"], "orders");
    assert_eq!(t["tables"][0]["rows"], 3);
    assert_eq!(t["tables"][0]["columns"][2]["type"], "numeric(10,2)");
    let (st, t) = s.get("/api/bots/shop/tables/orders?limit=2&offset=1");
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["total"], 3);
    assert_eq!(ids(&t["rows"]), vec![2, 3]);
    let (st, t) = s.get("/api/bots/shop/tables/nope");
    assert_eq!(st, 404, "{t}");
    let (st, t) = s.get("/api/bots/shop/tables/orders?limit=0");
    assert_eq!(st, 400, "{t}");
}

/// A workflow that inserts thirty rows, one per run (a `WAIT` between them commits
/// each), killed with SIGKILL three times while it works: after the restarts every row
/// is there exactly once. Each run replays the inserts before it from the journal.
#[test]
fn rows_written_before_a_sigkill_exist_once_after_the_restart() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "shop",
        "tables",
        "TABLE entries\n  id GUID KEY DEFAULT UUID()\n  n INTEGER\nEND TABLE\n",
    )
    .script(
        "shop",
        "fill",
        "FOR i = 1 TO 30\n  INSERT \"entries\", { n: i }\n  WAIT 0.05\nNEXT\nRETURN LEN(FIND(\"entries\", \"\"))\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("shop", "fill", json!({}));
    let mut s = Some(s);
    for kill in 1..=3 {
        let before = db.count("SELECT count(*) AS n FROM bot_shop.entries");
        eventually(30.0, "more rows before the kill", || {
            let now = db.count("SELECT count(*) AS n FROM bot_shop.entries");
            if now > before || now == 30 {
                Ok(())
            } else {
                Err(format!("{now} rows"))
            }
        });
        s.take().unwrap().kill();
        let after = db.count("SELECT count(*) AS n FROM bot_shop.entries");
        let distinct = db.count("SELECT count(DISTINCT n) AS n FROM bot_shop.entries");
        assert_eq!(after, distinct, "kill {kill}: a row was written twice");
        s = Some(Server::start(&db.url, &bots.path));
    }
    let s = s.unwrap();
    let v = s.workflow_result(&id);
    assert_eq!(v["status"], "completed", "{v}");
    assert_eq!(v["result"], 30);
    assert_eq!(db.count("SELECT count(*) AS n FROM bot_shop.entries"), 30);
    assert_eq!(
        db.count("SELECT count(DISTINCT n) AS n FROM bot_shop.entries"),
        30
    );
}
