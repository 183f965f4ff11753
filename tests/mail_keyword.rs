//! SEND MAIL against a real SMTP listener on 127.0.0.1 (`common::smtp`), which records
//! every message: a message is sent once, with a Message-ID made of the execution and
//! its journal key, and never again on replay; a bot's config.csv overrides the server's
//! settings, and no settings at all is a clear error; a send cut off by SIGKILL is
//! repeated after the restart with the same Message-ID.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;

use common::db::TestDb;
use common::server::{eventually, BotDir, Options, Server};
use common::smtp::SmtpSink;
use serde_json::json;

fn mail_env(sink: &SmtpSink) -> Options {
    Options {
        env: vec![
            ("BOTSERVER_SMTP_URL".to_string(), sink.url()),
            (
                "BOTSERVER_SMTP_FROM".to_string(),
                "Shop <shop@example.com>".to_string(),
            ),
        ],
        ..Options::default()
    }
}

#[test]
fn a_message_is_sent_once_with_an_id_of_the_execution_and_key() {
    let db = TestDb::new();
    let sink = SmtpSink::start();
    let bots = BotDir::new();
    bots.script(
        "shop",
        "notify",
        "status = SEND MAIL \"ana@example.com; bo@example.com\",\n    \"Your order \" & order,\n    \"It shipped today.\"\nWAIT 0.2\nSEND_EMAIL(\"ana@example.com\", \"Again\", \"Second\")\nWAIT 0.2\nRETURN status\n",
    );
    let s = Server::start_with(&db.url, &bots.path, mail_env(&sink));
    let id = s.start_workflow("shop", "notify", json!({ "order": 7 }));
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], "sent");
    // Three runs (two WAITs): each message went out once.
    let got = sink.received();
    assert_eq!(got.len(), 2, "{got:?}");
    let first = &got[0];
    assert_eq!(first.from, "shop@example.com");
    assert_eq!(first.to, vec!["ana@example.com", "bo@example.com"]);
    assert_eq!(first.header("Subject").as_deref(), Some("Your order 7"));
    assert!(first.body().contains("It shipped today."), "{first:?}");
    let mid = first.header("Message-ID").unwrap();
    assert_eq!(mid, format!("<{id}.mail#1@botserver>"));
    assert_eq!(
        got[1].header("Message-ID").unwrap(),
        format!("<{id}.mail#2@botserver>")
    );
}

#[test]
fn a_bots_settings_override_the_servers_and_none_is_a_clear_error() {
    let db = TestDb::new();
    let sink = SmtpSink::start();
    let bots = BotDir::new();
    let script = "SEND MAIL \"ana@example.com\", \"Hi\", \"Body\"\nRETURN 1\n";
    bots.script("plain", "notify", script);
    bots.script("own", "notify", script);
    let config = bots.path.join("own.gbai").join("own.gbot");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.csv"),
        format!(
            "name,value\nemail-server,127.0.0.1\nemail-port,{}\nemail-from,own@example.com\n",
            sink.port
        ),
    )
    .unwrap();
    let s = Server::start(&db.url, &bots.path);

    let plain = s.start_workflow("plain", "notify", json!({}));
    let r = s.workflow_result(&plain);
    assert_eq!(r["status"], "failed", "{r}");
    let (_, d) = s.get(&format!("/api/workflows/{plain}"));
    let error = d["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("SEND MAIL: no mail server is configured"),
        "{d}"
    );

    let own = s.start_workflow("own", "notify", json!({}));
    let r = s.workflow_result(&own);
    assert_eq!(r["status"], "completed", "{r}");
    let got = sink.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].from, "own@example.com");
}

#[test]
fn a_send_cut_off_by_sigkill_is_repeated_with_the_same_message_id() {
    let db = TestDb::new();
    let sink = SmtpSink::start();
    let bots = BotDir::new();
    bots.script(
        "shop",
        "notify",
        "WAIT 0.2\nSEND MAIL \"ana@example.com\", \"Receipt\", \"Paid.\"\nRETURN 1\n",
    );
    let mut opts = mail_env(&sink);
    opts.env
        .push(("BOTSERVER_LEASE_SECS".to_string(), "2".to_string()));
    // The mail server holds its answer long enough to kill the sender while it waits.
    sink.delay_ms.store(4_000, Ordering::SeqCst);
    let s = Server::start_with(&db.url, &bots.path, opts.clone());
    let id = s.start_workflow("shop", "notify", json!({}));
    eventually(20.0, "the message to reach the mail server", || {
        if sink.arrived() > 0 {
            Ok(())
        } else {
            Err("nothing yet".to_string())
        }
    });
    s.kill();
    sink.delay_ms.store(0, Ordering::SeqCst);
    let s = Server::start_with(&db.url, &bots.path, opts);
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "completed", "{r}");
    let got = eventually(10.0, "both deliveries", || {
        let got = sink.received();
        if got.len() == 2 {
            Ok(got)
        } else {
            Err(format!("{got:?}"))
        }
    });
    let ids: Vec<String> = got
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(ids[0], ids[1], "the repeat must carry the same Message-ID");
    assert!(ids[0].contains(&id), "{ids:?}");
}
