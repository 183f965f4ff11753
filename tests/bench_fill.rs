//! The bench's history maker (`bench::scale::fill_finished_executions`) writes what it
//! says: exactly n finished executions, every status it promises, stored script versions
//! behind every row, v7 ids ordered as their creation times, and steps and journal
//! entries for one execution in four. It tries to break the console's and the scale
//! bench's assumption that the million rows look like a real server's history.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;

#[test]
fn fill_writes_n_finished_executions_with_steps_for_some() {
    let db = TestDb::new();
    let mut conn = db.conn();
    botserver::bench::scale::fill_finished_executions(&mut conn, 1000).unwrap();
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions"),
        1000
    );
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE status NOT IN ('completed', 'failed', 'cancelled') \
             OR finished_at IS NULL OR kind <> 'workflow'"
        ),
        0
    );
    for (status, n) in [("completed", 850), ("failed", 100), ("cancelled", 50)] {
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) AS n FROM workflow_executions WHERE status = '{status}'"
            )),
            n,
            "{status}"
        );
    }
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions WHERE status = 'failed' AND error IS NULL"),
        0
    );
    assert_eq!(
        db.count("SELECT count(DISTINCT bot) AS n FROM workflow_executions"),
        4
    );
    // Every row's script version is stored (the row can be opened and retried).
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM workflow_executions e LEFT JOIN scripts s ON s.hash = e.script_hash \
             WHERE s.hash IS NULL"
        ),
        0
    );
    // Ids are UUID v7 and sort as their creation times.
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM workflow_executions WHERE substr(id::text, 15, 1) <> '7' \
             OR substr(id::text, 20, 1) NOT IN ('8', '9', 'a', 'b')"
        ),
        0
    );
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM (SELECT created_at, lag(created_at) OVER (ORDER BY id) AS before \
             FROM workflow_executions) t WHERE before > created_at"
        ),
        0
    );
    assert_eq!(db.count("SELECT count(*) AS n FROM workflow_steps"), 750);
    assert_eq!(db.count("SELECT count(*) AS n FROM journal"), 750);
    // A second call adds to the history (the console's bench may call it twice).
    botserver::bench::scale::fill_finished_executions(&mut conn, 10).unwrap();
    assert_eq!(
        db.count("SELECT count(*) AS n FROM workflow_executions"),
        1010
    );
}
