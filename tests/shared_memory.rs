//! Cross-bot memory (docs/language.md): tries to make a bot see what was not shared with it,
//! make a sync keep an older value than the newest share (two bots sharing one key at the
//! same time), make a sync overwrite a bot's own newer write, and make a replay share or
//! sync twice. Real server, real PostgreSQL; values are read back through
//! `GET BOT MEMORY`, the memory API and the `bot_shared_memory` table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{eventually, BotDir, Server};
use serde_json::{json, Value};

fn start(s: &Server, bot: &str, script: &str, input: Value) -> String {
    let (st, v) = s.post(
        "/api/workflows",
        json!({ "bot": bot, "script": script, "input": input }),
    );
    assert_eq!(st, 201, "starting {bot}/{script}: {v}");
    v["id"].as_str().unwrap().to_string()
}

fn result(s: &Server, id: &str) -> Value {
    let (st, v) = s.get(&format!("/api/workflows/{id}/result?timeout=30"));
    assert_eq!(st, 200, "result of {id}: {v}");
    v
}

/// Runs `bot/script` as a workflow to its end; returns `{status, result, error}`.
fn run(s: &Server, bot: &str, script: &str, input: Value) -> Value {
    let id = start(s, bot, script, input);
    result(s, &id)
}

/// Runs `bot/script`, which must complete; returns its result.
fn run_ok(s: &Server, bot: &str, script: &str, input: Value) -> Value {
    let r = run(s, bot, script, input);
    assert_eq!(r["status"], "completed", "{bot}/{script}: {r}");
    r["result"].clone()
}

/// Runs `bot/script`, which must fail; returns its error text.
fn run_failing(s: &Server, bot: &str, script: &str) -> String {
    let r = run(s, bot, script, json!({}));
    assert_eq!(r["status"], "failed", "{bot}/{script} should fail: {r}");
    r["error"].as_str().unwrap_or_default().to_string()
}

/// A bot's value of one key through `GET /api/bots/{bot}/memory/{key}`, or None (404).
fn api_value(s: &Server, bot: &str, key: &str) -> Option<Value> {
    let (st, v) = s.get(&format!("/api/bots/{bot}/memory/{key}"));
    match st {
        200 => Some(v["value"].clone()),
        404 => None,
        _ => panic!("GET memory {bot}/{key}: {st} {v}"),
    }
}

fn api_version(s: &Server, bot: &str, key: &str) -> i64 {
    let (st, v) = s.get(&format!("/api/bots/{bot}/memory/{key}"));
    assert_eq!(st, 200, "{v}");
    v["version"].as_i64().unwrap()
}

/// `(source_bot, target_bot, key)` of a bot's `incoming` or `outgoing` shares.
fn shares(s: &Server, bot: &str, dir: &str) -> Vec<(String, String, String)> {
    let (st, v) = s.get(&format!("/api/bots/{bot}/memory/shared"));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["bot"], bot);
    v[dir]
        .as_array()
        .unwrap_or_else(|| panic!("no {dir} list: {v}"))
        .iter()
        .map(|r| {
            (
                r["source_bot"].as_str().unwrap().to_string(),
                r["target_bot"].as_str().unwrap().to_string(),
                r["key"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn t(a: &str, b: &str, c: &str) -> (String, String, String) {
    (a.to_string(), b.to_string(), c.to_string())
}

/// A sync script: syncs (from input `src`, if given), then returns how many keys changed
/// (the assignment form `n = BOT SYNC MEMORY`) and the bot's values of a few keys.
const SYNC: &str = "IF ISNULL(src) THEN\n  changed = BOT SYNC MEMORY\nELSE\n  changed = BOT SYNC MEMORY FROM src\nEND IF\nRETURN { changed: changed, a: GET BOT MEMORY(\"a\"), b: GET BOT MEMORY(\"b\"), c: GET BOT MEMORY(\"c\"), secret: GET BOT MEMORY(\"secret\"), news: GET BOT MEMORY(\"news\"), k: GET BOT MEMORY(\"k\") }\n";

fn sync(s: &Server, bot: &str) -> Value {
    run_ok(s, bot, "sync", json!({}))
}

fn sync_from(s: &Server, bot: &str, from: &str) -> Value {
    run_ok(s, bot, "sync", json!({ "src": from }))
}

#[test]
fn share_with_one_peer_and_with_all_and_a_third_bot_sees_nothing_private() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "alice",
        "share",
        "SET BOT MEMORY \"secret\", \"for bob only\"\nBOT SHARE MEMORY \"secret\" WITH \"bob\"\nSET BOT MEMORY \"news\", { headline: \"hello all\", n: 3 }\nBOT SHARE MEMORY \"news\" WITH ALL\nRETURN \"shared\"\n",
    );
    for b in ["alice", "bob", "carol", "dave"] {
        bots.script(b, "sync", SYNC);
    }
    let s = Server::start(&db.url, &bots.path);

    // Nothing shared yet: a sync changes nothing.
    assert_eq!(sync(&s, "bob")["changed"], 0);
    assert_eq!(run_ok(&s, "alice", "share", json!({})), "shared");

    // Before any sync, the peer's own memory does not have the value: sharing publishes,
    // syncing copies.
    assert_eq!(api_value(&s, "bob", "secret"), None);

    let news = json!({ "headline": "hello all", "n": 3 });
    let bob = sync(&s, "bob");
    assert_eq!(bob["changed"], 2, "{bob}");
    assert_eq!(bob["secret"], "for bob only", "{bob}");
    assert_eq!(bob["news"], news, "{bob}");
    assert_eq!(api_value(&s, "bob", "secret"), Some(json!("for bob only")));
    assert_eq!(api_value(&s, "bob", "news"), Some(news.clone()));
    // Synced a second time: nothing changes.
    assert_eq!(sync(&s, "bob")["changed"], 0);

    // WITH ALL reaches every other bot; the private key reaches none of them.
    for third in ["carol", "dave"] {
        let r = sync(&s, third);
        assert_eq!(r["changed"], 1, "{third}: {r}");
        assert_eq!(r["news"], news, "{third}: {r}");
        assert_eq!(r["secret"], Value::Null, "{third} saw the private key: {r}");
        assert_eq!(api_value(&s, third, "secret"), None, "{third}");
        assert_eq!(
            shares(&s, third, "incoming"),
            vec![t("alice", "*", "news")],
            "{third}'s incoming"
        );
        assert_eq!(shares(&s, third, "outgoing"), vec![], "{third}'s outgoing");
    }
    // The sharer's own WITH ALL share is not incoming to itself.
    assert_eq!(sync(&s, "alice")["changed"], 0);
    assert_eq!(shares(&s, "alice", "incoming"), vec![]);

    assert_eq!(
        shares(&s, "bob", "incoming"),
        vec![t("alice", "*", "news"), t("alice", "bob", "secret")]
    );
    assert_eq!(
        shares(&s, "alice", "outgoing"),
        vec![t("alice", "*", "news"), t("alice", "bob", "secret")]
    );
    // The API shows values and versions too, and the version is the table's.
    let (_, v) = s.get("/api/bots/bob/memory/shared");
    let secret = v["incoming"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "secret")
        .unwrap()
        .clone();
    assert_eq!(secret["value"], "for bob only");
    assert_eq!(
        secret["version"].as_i64().unwrap(),
        db.count("SELECT version AS n FROM bot_shared_memory WHERE key = 'secret'")
    );
    let (st, _) = s.get("/api/bots/nobody/memory/shared");
    assert_eq!(st, 404);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM bot_memories WHERE key = 'secret'"),
        2,
        "only alice and bob hold the secret"
    );
}

#[test]
fn two_bots_sharing_one_key_concurrently_the_target_ends_with_the_newest() {
    let db = TestDb::new();
    let bots = BotDir::new();
    for p in ["p1", "p2"] {
        bots.script(
            p,
            "share",
            &format!("SET BOT MEMORY \"k\", \"{p}-\" & round\nBOT SHARE MEMORY \"k\" WITH \"target\"\nRETURN round\n"),
        );
    }
    bots.script("target", "sync", SYNC);
    let s = Server::start(&db.url, &bots.path);

    let newest = || {
        db.count(
            "SELECT max(version) AS n FROM bot_shared_memory WHERE target_bot = 'target' AND key = 'k'",
        )
    };
    let newest_value = |s: &Server| -> Value {
        let (_, v) = s.get("/api/bots/target/memory/shared");
        let rows = v["incoming"].as_array().unwrap().clone();
        assert_eq!(rows.len(), 2, "{v}");
        rows.into_iter()
            .max_by_key(|r| r["version"].as_i64().unwrap())
            .unwrap()["value"]
            .clone()
    };

    let rounds = 25;
    let mut syncs_during = 0;
    for round in 0..rounds {
        // Both sharers and a sync of the target start at the same instant.
        let barrier = std::sync::Barrier::new(3);
        let (r1, r2, rs) = std::thread::scope(|sc| {
            let go = |bot: &'static str, script: &'static str| {
                let (s, barrier) = (&s, &barrier);
                sc.spawn(move || {
                    barrier.wait();
                    run(s, bot, script, json!({ "round": round }))
                })
            };
            let a = go("p1", "share");
            let b = go("p2", "share");
            let c = go("target", "sync");
            (a.join().unwrap(), b.join().unwrap(), c.join().unwrap())
        });
        for r in [&r1, &r2, &rs] {
            assert_eq!(r["status"], "completed", "round {round}: {r}");
        }
        syncs_during += rs["result"]["changed"].as_i64().unwrap();

        // After both shares: one sync leaves the target on the newest shared version.
        let after = sync(&s, "target");
        let want = newest_value(&s);
        assert_eq!(after["k"], want, "round {round}: {after}");
        assert_eq!(
            api_version(&s, "target", "k"),
            newest(),
            "round {round}: the target's version is not the newest share"
        );
        assert!(
            want == json!(format!("p1-{round}")) || want == json!(format!("p2-{round}")),
            "round {round}: newest is {want}"
        );
        // And a repeated sync changes nothing.
        assert_eq!(
            sync(&s, "target")["changed"],
            0,
            "round {round}: second sync"
        );
    }
    assert!(
        syncs_during <= rounds,
        "a sync changed one key more than once per round"
    );
    assert_eq!(
        db.count("SELECT count(*) AS n FROM bot_shared_memory"),
        2,
        "one row per (source, target, key)"
    );
}

#[test]
fn many_concurrent_sharers_then_one_sync_takes_the_newest() {
    let db = TestDb::new();
    let bots = BotDir::new();
    let sharers: Vec<String> = (0..6).map(|i| format!("s{i}")).collect();
    for p in &sharers {
        bots.script(
            p,
            "share",
            "SET BOT MEMORY \"k\", who & \"-\" & round\nBOT SHARE MEMORY \"k\" WITH \"target\"\nRETURN round\n",
        );
    }
    bots.script("target", "sync", SYNC);
    let s = Server::start(&db.url, &bots.path);
    let barrier = std::sync::Barrier::new(sharers.len());
    std::thread::scope(|sc| {
        for p in &sharers {
            let (s, barrier) = (&s, &barrier);
            sc.spawn(move || {
                barrier.wait();
                for round in 0..5 {
                    let r = run(s, p, "share", json!({ "who": p, "round": round }));
                    assert_eq!(r["status"], "completed", "{p} round {round}: {r}");
                }
            });
        }
    });
    let first = sync(&s, "target");
    assert_eq!(first["changed"], 1, "{first}");
    let newest =
        db.count("SELECT max(version) AS n FROM bot_shared_memory WHERE target_bot = 'target'");
    assert_eq!(api_version(&s, "target", "k"), newest);
    let newest_is = db.count(&format!(
        "SELECT count(*) AS n FROM bot_shared_memory WHERE version = {newest} AND value = '{}'::jsonb",
        first["k"]
    ));
    assert_eq!(
        newest_is, 1,
        "target holds {} which is not the newest share",
        first["k"]
    );
    assert_eq!(sync(&s, "target")["changed"], 0);
    assert_eq!(sync(&s, "target")["changed"], 0);
}

#[test]
fn a_bots_own_newer_write_survives_a_sync() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "src",
        "share",
        "SET BOT MEMORY \"k\", v\nBOT SHARE MEMORY \"k\" WITH \"dst\"\nRETURN v\n",
    );
    bots.script("dst", "write", "SET BOT MEMORY \"k\", v\nRETURN v\n");
    bots.script("dst", "sync", SYNC);
    let s = Server::start(&db.url, &bots.path);

    // Shared first, then written by the target itself: the target's write is newer.
    run_ok(&s, "src", "share", json!({ "v": "blue" }));
    run_ok(&s, "dst", "write", json!({ "v": "red" }));
    let own = api_version(&s, "dst", "k");
    let r = sync(&s, "dst");
    assert_eq!(
        (r["changed"].clone(), r["k"].clone()),
        (json!(0), json!("red")),
        "{r}"
    );
    assert_eq!(api_value(&s, "dst", "k"), Some(json!("red")));
    assert_eq!(
        api_version(&s, "dst", "k"),
        own,
        "an unchanged key keeps its version"
    );

    // A newer share does replace it.
    run_ok(&s, "src", "share", json!({ "v": "green" }));
    let r = sync(&s, "dst");
    assert_eq!(
        (r["changed"].clone(), r["k"].clone()),
        (json!(1), json!("green")),
        "{r}"
    );

    // Written again after that share: the own write wins again, also over repeated syncs.
    run_ok(&s, "dst", "write", json!({ "v": "mine" }));
    for _ in 0..2 {
        let r = sync(&s, "dst");
        assert_eq!(
            (r["changed"].clone(), r["k"].clone()),
            (json!(0), json!("mine")),
            "{r}"
        );
    }
    // The sharer's value is untouched by all this.
    assert_eq!(api_value(&s, "src", "k"), Some(json!("green")));
}

#[test]
fn sync_from_one_source_copies_only_its_keys() {
    let db = TestDb::new();
    let bots = BotDir::new();
    for (bot, key) in [("a", "a"), ("b", "b"), ("c", "c")] {
        let with = if bot == "c" { "ALL" } else { "\"t\"" };
        bots.script(
            bot,
            "share",
            &format!("SET BOT MEMORY \"{key}\", \"from {bot}\"\nBOT SHARE MEMORY \"{key}\" WITH {with}\nSET BOT MEMORY \"k\", \"k of {bot}\"\nBOT SHARE MEMORY \"k\" WITH \"t\"\nRETURN 1\n"),
        );
    }
    bots.script("t", "sync", SYNC);
    let s = Server::start(&db.url, &bots.path);
    // a, then b, then c: for the common key k, c's share is the newest.
    for b in ["a", "b", "c"] {
        run_ok(&s, b, "share", json!({}));
    }

    let r = sync_from(&s, "t", "a");
    assert_eq!(r["changed"], 2, "{r}");
    assert_eq!(
        (&r["a"], &r["b"], &r["c"], &r["k"]),
        (
            &json!("from a"),
            &Value::Null,
            &Value::Null,
            &json!("k of a")
        ),
        "{r}"
    );
    // From c: its WITH ALL share counts as shared with t; its k is newer than a's.
    let r = sync_from(&s, "t", "c");
    assert_eq!(r["changed"], 2, "{r}");
    assert_eq!(
        (&r["b"], &r["c"], &r["k"]),
        (&Value::Null, &json!("from c"), &json!("k of c")),
        "{r}"
    );
    // From b: its k is older than what t holds now (c's), so only b's own key comes.
    let r = sync_from(&s, "t", "b");
    assert_eq!(r["changed"], 1, "{r}");
    assert_eq!(
        (&r["b"], &r["k"]),
        (&json!("from b"), &json!("k of c")),
        "{r}"
    );
    // Everything is now in: a full sync changes nothing.
    assert_eq!(sync(&s, "t")["changed"], 0);
    assert_eq!(sync_from(&s, "t", "a")["changed"], 0);
}

#[test]
fn arguments_are_expressions_and_errors_are_clear() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "maker",
        "share",
        "peer = \"pe\" & \"er\"\nn = 3\nSET BOT MEMORY \"k\" + n, n * 2\nBOT SHARE MEMORY \"k\" + n WITH peer\nkeys = [\"x\", \"y\"]\nFOR EACH key IN keys\n  SET BOT MEMORY key, UCASE(key)\n  BOT SHARE MEMORY key WITH LCASE(\"PEER\")\nNEXT\nRETURN 1\n",
    );
    bots.script(
        "maker",
        "unknown",
        "SET BOT MEMORY \"k\", 1\nwho = \"ghost\" & \"bot\"\nBOT SHARE MEMORY \"k\" WITH who\n",
    );
    bots.script("maker", "unknown_from", "BOT SYNC MEMORY FROM \"nobot\"\n");
    bots.script(
        "maker",
        "missing",
        "BOT SHARE MEMORY \"never_\" & \"set\" WITH \"peer\"\n",
    );
    // A misspelled target variable is NULL: that must not mean "everyone".
    bots.script(
        "maker",
        "typo",
        "peer = \"peer\"\nSET BOT MEMORY \"private\", 1\nBOT SHARE MEMORY \"private\" WITH peerr\n",
    );
    bots.script(
        "maker",
        "typo_from",
        "n = BOT SYNC MEMORY FROM sourse\nRETURN n\n",
    );
    // WITH ALL ends the statement also before the ELSE of a one-line IF.
    bots.script(
        "maker",
        "one_line",
        "SET BOT MEMORY \"open\", 2\nIF TRUE THEN BOT SHARE MEMORY \"open\" WITH ALL ELSE TALK \"no\"\nRETURN 1\n",
    );
    bots.script(
        "peer",
        "sync",
        "src = \"mak\" & \"er\"\nSTEP 1: BOT SYNC MEMORY FROM src\nRETURN { changed: step1, k3: GET BOT MEMORY(\"k\" & 3), x: GET BOT MEMORY(\"x\"), y: GET BOT MEMORY(\"y\") }\n",
    );
    let s = Server::start(&db.url, &bots.path);

    run_ok(&s, "maker", "share", json!({}));
    let r = run_ok(&s, "peer", "sync", json!({}));
    assert_eq!(r, json!({ "changed": 3, "k3": 6, "x": "X", "y": "Y" }));
    assert_eq!(
        shares(&s, "maker", "outgoing"),
        vec![
            t("maker", "peer", "k3"),
            t("maker", "peer", "x"),
            t("maker", "peer", "y")
        ]
    );

    let e = run_failing(&s, "maker", "unknown");
    assert!(e.contains("ghostbot") && e.contains("unknown bot"), "{e}");
    let e = run_failing(&s, "maker", "unknown_from");
    assert!(e.contains("nobot") && e.contains("unknown bot"), "{e}");
    let e = run_failing(&s, "maker", "missing");
    assert!(e.contains("never_set") && e.contains("no value"), "{e}");
    let e = run_failing(&s, "maker", "typo");
    assert!(e.contains("BOT SHARE MEMORY") && e.contains("NULL"), "{e}");
    let e = run_failing(&s, "maker", "typo_from");
    assert!(e.contains("BOT SYNC MEMORY") && e.contains("NULL"), "{e}");
    // None of the failures shared anything.
    assert_eq!(db.count("SELECT count(*) AS n FROM bot_shared_memory"), 3);
    run_ok(&s, "maker", "one_line", json!({}));
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM bot_shared_memory WHERE key = 'open' AND target_bot = '*'"
        ),
        1
    );
}

#[test]
fn a_replay_after_a_crash_neither_shares_nor_syncs_twice() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script(
        "sharer",
        "start",
        "SET BOT MEMORY \"note\", \"v1\"\nBOT SHARE MEMORY \"note\" WITH \"reader\"\nWAIT 3\nRETURN \"done\"\n",
    );
    bots.script(
        "reader",
        "start",
        "STEP 1: BOT SYNC MEMORY\nWAIT 3\nSTEP 2: BOT SYNC MEMORY\nRETURN { first: step1, second: step2, note: GET BOT MEMORY(\"note\") }\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let sharer = start(&s, "sharer", "start", json!({}));
    let waiting = |id: &str| {
        let q = format!(
            "SELECT count(*) AS n FROM workflow_executions WHERE id = '{id}' AND status = 'waiting'"
        );
        eventually(20.0, "workflow waiting", || match db.count(&q) {
            1 => Ok(()),
            _ => Err(format!("{id} not waiting")),
        });
    };
    waiting(&sharer);
    let reader = start(&s, "reader", "start", json!({}));
    waiting(&reader);
    let version = db.count("SELECT version AS n FROM bot_shared_memory WHERE key = 'note'");
    let reader_version = api_version(&s, "reader", "note");
    assert_eq!(reader_version, version);
    s.kill();

    let s = Server::start(&db.url, &bots.path);
    let r = result(&s, &sharer);
    assert_eq!(r["status"], "completed", "{r}");
    let r = result(&s, &reader);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(
        r["result"],
        json!({ "first": 1, "second": 0, "note": "v1" }),
        "the first sync's count comes from the journal"
    );
    assert_eq!(
        db.count("SELECT version AS n FROM bot_shared_memory WHERE key = 'note'"),
        version,
        "the share ran again on replay"
    );
    assert_eq!(
        api_version(&s, "reader", "note"),
        reader_version,
        "the reader's copy was written again"
    );
    for (id, op, n) in [(&sharer, "share", 1), (&reader, "sync", 2)] {
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) AS n FROM journal WHERE execution_id = '{id}' AND key LIKE '%{op}#%'"
            )),
            n,
            "{op} journal entries of {id}"
        );
    }
}
