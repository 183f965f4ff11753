//! A script written as General Bots scripts are (our own, in their style) runs to its end
//! against real peers: it reads a supplier's API with GET (an HTTP service on 127.0.0.1),
//! keeps the products in the bot's table with SAVE, finds them again with FIND, and mails
//! a summary with SEND MAIL (an SMTP listener on 127.0.0.1). Run twice, the table still
//! holds each product once (SAVE updates), and each run sent one mail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::peer::Peer;
use common::server::{BotDir, Options, Server};
use common::smtp::SmtpSink;
use serde_json::json;

const TABLES: &str = "' The products we keep from the supplier.
TABLE products
    id INTEGER KEY
    name STRING(100) NOT NULL
    seen DATETIME DEFAULT NOW()
END TABLE
";

const REPORT: &str = r#"PARAM buyer AS EMAIL LIKE "buyer@example.com" DESCRIPTION "Who gets the summary"
DESCRIPTION "Imports the supplier's products and mails a summary"

supplier = GET CONFIG "supplier-url"
SET HEADER "Accept", "application/json"
data = GET supplier & "/products"

count = 0
FOR EACH item IN data.items
    id = item.id
    name = item.name
    SAVE "products", id, name
    count = count + 1
NEXT item

products = FIND "products", "name LIKE '%a%'"
summary = "Imported " & count & " products:"
FOR EACH p IN products
    summary = summary & " " & p.name
NEXT

status = SEND MAIL buyer, "Stock report", summary
TALK "Report sent to " & buyer
RETURN { imported: count, listed: LEN(products), mail: status }
"#;

#[test]
fn a_general_bots_style_script_reads_an_api_saves_finds_and_mails() {
    let db = TestDb::new();
    let peer = Peer::start();
    let sink = SmtpSink::start();
    let bots = BotDir::new();
    bots.script("stock", "tables", TABLES)
        .script("stock", "report", REPORT);
    let config = bots.path.join("stock.gbai").join("stock.gbot");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.csv"),
        format!(
            "name,value\nsupplier-url,{}\nhttp-allow,127.0.0.1:{}\nsmtp-url,{}\nemail-from,stock@example.com\n",
            peer.url(""),
            peer.port,
            sink.url()
        ),
    )
    .unwrap();
    let s = Server::start_with(&db.url, &bots.path, Options::default());
    for run in 1..=2 {
        let id = s.start_workflow("stock", "report", json!({ "buyer": "buyer@example.com" }));
        let r = s.workflow_result(&id);
        assert_eq!(r["status"], "completed", "run {run}: {r}");
        assert_eq!(
            r["result"],
            json!({ "imported": 2, "listed": 2, "mail": "sent" }),
            "run {run}"
        );
        let got = sink.received();
        assert_eq!(got.len(), run, "{got:?}");
        let mail = &got[run - 1];
        assert_eq!(mail.to, vec!["buyer@example.com"]);
        assert_eq!(mail.from, "stock@example.com");
        assert_eq!(mail.header("Subject").as_deref(), Some("Stock report"));
        assert!(
            mail.body().contains("Imported 2 products: tea cake"),
            "{mail:?}"
        );
        let seen = peer.seen();
        assert_eq!(seen.len(), run, "{seen:?}");
        assert_eq!(seen[run - 1].path, "/products");
    }
    assert_eq!(db.count("SELECT count(*) AS n FROM bot_stock.products"), 2);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM bot_stock.products WHERE name IN ('tea', 'cake') AND seen IS NOT NULL"),
        2
    );
}
