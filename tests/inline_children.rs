//! Children run inline in the group commit (`workflow::group`): a workflow whose `BOT`
//! and `PARALLEL` children need the database only at commit runs its whole tree on one
//! thread and writes it in one transaction. This tries to break what that must keep
//! from the transactional path: every child is its own row (parent, key, status,
//! result), the tree's size is counted, a child that waits leaves its parent waiting
//! for it and the normal path takes over, a failing child fails its parent's step, and
//! a child whose script uses the database makes the tree run the transactional way.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;
use common::server::{BotDir, Options, Server};
use serde_json::json;

const SEED: &str = "STEP 1: a = BOT \"worker\" \"classify\"\n\
STEP 2: BOT \"worker\" \"check order\"\n\
STEP 3: PARALLEL\n\
\x20 BRANCH A: BOT \"worker\" \"refund\"\n\
\x20 BRANCH B: BOT \"worker\" \"update stock\"\n\
END PARALLEL\n\
RETURN { first: a, second: step2, both: step3 }\n";

#[test]
fn the_seeds_shape_writes_every_child_as_its_own_row() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("worker", "task", "RETURN { did: task }\n");
    bots.script("desk", "seed", SEED);
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("desk", "seed", json!({}));
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"]["first"], json!({ "did": "classify" }), "{r}");
    assert_eq!(
        r["result"]["second"],
        json!({ "did": "check order" }),
        "{r}"
    );
    assert_eq!(r["result"]["both"]["a"], json!({ "did": "refund" }), "{r}");
    assert_eq!(
        r["result"]["both"]["b"],
        json!({ "did": "update stock" }),
        "{r}"
    );
    // Root, two tasks, two branches, a task under each branch: all completed, each
    // under its parent, the tree counted on the root.
    let tree = |sql: &str| db.count(&sql.replace("$ROOT", &id));
    assert_eq!(
        tree(
            "WITH RECURSIVE t AS (SELECT id, status FROM workflow_executions WHERE id = '$ROOT' \
             UNION ALL SELECT e.id, e.status FROM workflow_executions e JOIN t ON e.parent_id = t.id) \
             SELECT count(*) AS n FROM t WHERE status = 'completed'"
        ),
        7
    );
    assert_eq!(
        tree("SELECT tree_size::bigint AS n FROM workflow_executions WHERE id = '$ROOT'"),
        7
    );
    assert_eq!(
        tree(
            "SELECT count(*) AS n FROM workflow_executions WHERE parent_id = '$ROOT' \
             AND parent_key IS NOT NULL AND finished_at IS NOT NULL"
        ),
        4
    );
    let (_, d) = s.get(&format!("/api/workflows/{id}"));
    assert_eq!(d["children"].as_array().map(Vec::len), Some(4), "{d}");
    let steps: Vec<(String, String)> = d["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            (
                st["key"].as_str().unwrap_or_default().to_string(),
                st["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for key in ["1", "2", "3"] {
        assert!(
            steps.iter().any(|(k, st)| k == key && st == "completed"),
            "step {key}: {d}"
        );
    }
}

#[test]
fn a_child_that_waits_leaves_its_parent_waiting_until_it_ends() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("sleepy", "task", "WAIT 1\nRETURN 5\n");
    bots.script(
        "desk",
        "start",
        "STEP 1: x = BOT \"sleepy\" \"nap\"\nRETURN x + 1\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let id = s.start_workflow("desk", "start", json!({}));
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], json!(6), "{r}");
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM workflow_executions WHERE parent_id = '{id}' AND status = 'completed' \
             AND runs >= 2"
        )),
        1,
        "the child ran twice: before and after its timer"
    );
}

#[test]
fn a_failing_child_fails_its_parents_step_and_a_database_child_runs_the_other_way() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("broken", "task", "x = 1 / 0\n");
    bots.script(
        "counter",
        "task",
        "n = GET BOT MEMORY(\"calls\") + 1\nSET BOT MEMORY \"calls\", n\nRETURN n\n",
    );
    bots.script("desk", "fails", "STEP 1: BOT \"broken\" \"go\"\nRETURN 1\n");
    bots.script(
        "desk",
        "counts",
        "STEP 1: a = BOT \"counter\" \"count\"\nSTEP 2: b = BOT \"counter\" \"count\"\nRETURN a + b\n",
    );
    let s = Server::start(&db.url, &bots.path);
    let failing = s.start_workflow("desk", "fails", json!({}));
    let r = s.workflow_result(&failing);
    assert_eq!(r["status"], "failed", "{r}");
    let error = r["error"].as_str().unwrap_or_default();
    assert!(error.contains("bot 'broken' failed"), "{r}");
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) AS n FROM workflow_executions WHERE parent_id = '{failing}' AND status = 'failed'"
        )),
        1
    );
    let counting = s.start_workflow("desk", "counts", json!({}));
    let r = s.workflow_result(&counting);
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"], json!(3), "each child counted once: {r}");
    let (_, m) = s.get("/api/bots/counter/memory/calls");
    assert!(m.to_string().contains('2'), "{m}");
}

#[test]
fn the_tree_limit_holds_for_children_run_inline() {
    let db = TestDb::new();
    let bots = BotDir::new();
    bots.script("worker", "task", "RETURN 1\n");
    bots.script("desk", "seed", SEED);
    let s = Server::start_with(
        &db.url,
        &bots.path,
        Options {
            env: vec![("BOTSERVER_MAX_TREE".into(), "4".into())],
            ..Options::default()
        },
    );
    let id = s.start_workflow("desk", "seed", json!({}));
    let r = s.workflow_result(&id);
    assert_eq!(r["status"], "failed", "{r}");
    assert!(
        r["error"]
            .as_str()
            .unwrap_or_default()
            .contains("BOTSERVER_MAX_TREE"),
        "{r}"
    );
}
