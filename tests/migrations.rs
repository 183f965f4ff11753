//! Every migration is reversible: up → down → up on a fresh database, with the seed's
//! table names present after each up and gone after the down.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::db::TestDb;

fn tables(db: &TestDb) -> i64 {
    db.count(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_name IN ('workflow_executions', 'workflow_events', 'bot_shared_memory', 'bot_memories', 'journal', \
         'workflow_start_keys')",
    )
}

#[test]
fn migrations_go_up_down_and_up_again() {
    let db = TestDb::new();
    assert_eq!(tables(&db), 6, "the template is migrated");
    let mut conn = db.conn();
    let folders = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
        .count();
    let reverted = botserver::db::revert_all(&mut conn).unwrap();
    assert_eq!(reverted, folders);
    assert_eq!(tables(&db), 0);
    let applied = botserver::db::migrate(&mut conn).unwrap();
    assert_eq!(applied, folders);
    assert_eq!(tables(&db), 6);
    assert_eq!(
        db.count(
            "SELECT count(*) AS n FROM __diesel_schema_migrations WHERE version = '20260125091800'"
        ),
        1,
        "the seed migration keeps its name"
    );
}
