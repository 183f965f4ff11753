//! Cost as the tables grow (`botserver bench --only scale`): the disk a suspended workflow
//! takes, 100,000 due workflows running again after a restart, and the three-step
//! throughput with a million finished executions in the tables.
//!
//! [`fill_finished_executions`] writes the million (set-based, a few statements) and is
//! public so that other parts of the bench (the console's) can make the same history.

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::sql_types::{Array, BigInt, Text};
use diesel::{PgConnection, QueryableByName, RunQueryDsl};
use serde_json::json;

use super::instance::count;
use super::report::{DiskShare, Extra};
use crate::error::Error;
use crate::instance::Instance;

/// The bots, scripts and workflow names of the made-up history: a support desk, a sales
/// pipeline, billing and onboarding, as a user's server would have them.
const HISTORY: &[(&str, &str, &str, &str)] = &[
    (
        "support",
        "customer-support",
        "customer-support",
        "STEP 1: BOT \"classifier\" \"analyze complaint\"\nSTEP 2: BOT \"order-checker\" \"validate order\"\nSTEP 3: PARALLEL\n  BRANCH A: BOT \"refund-processor\" \"process refund\"\n  BRANCH B: BOT \"inventory-updater\" \"update stock\"\nEND PARALLEL\n",
    ),
    (
        "support",
        "escalation",
        "escalation",
        "STEP 1: BOT \"classifier\" \"analyze complaint\"\nSTEP 2: x = 1\nSTEP 3: RETURN x\n",
    ),
    (
        "sales",
        "lead-qualification",
        "lead-qualification",
        "STEP 1: score = 10\nSTEP 2: score = score * 2\nSTEP 3: RETURN score\n",
    ),
    (
        "billing",
        "invoice-run",
        "monthly-invoices",
        "STEP 1: total = 0\nSTEP 2: total = total + 1\nSTEP 3: RETURN total\n",
    ),
    (
        "onboarding",
        "welcome",
        "welcome",
        "STEP 1: TALK \"welcome\"\nSTEP 2: WAIT 1\nSTEP 3: RETURN 1\n",
    ),
];

/// Executions written per statement: large enough for few round trips, small enough
/// that one statement's transaction stays short.
const CHUNK: i64 = 100_000;

/// Writes `n` finished workflow executions, as a server that has run for a month would
/// have them: a mix of bots, scripts and workflow names (stored script versions, so
/// every row can be opened), 85% `completed`, 10% `failed` (with an error), 5%
/// `cancelled`, created over the past 30 days with ids that are UUID v7 of their
/// creation time (the workflow list pages by id), each with its input, variables and
/// result; one in four also has its three steps in `workflow_steps` and their journal
/// entries (`1!end`, `2!end`, `3!end`, the failed step's `!fail#1`). Set-based SQL: one
/// statement per 100,000 executions, then `ANALYZE` of the tables written, as
/// autovacuum would have done.
pub fn fill_finished_executions(conn: &mut PgConnection, n: i64) -> Result<(), Error> {
    let mut bots = Vec::new();
    let mut scripts = Vec::new();
    let mut names = Vec::new();
    let mut hashes = Vec::new();
    for (bot, script, name, source) in HISTORY {
        let hash = crate::basic::content_hash(source);
        crate::db::scripts::store(conn, &hash, bot, script, source)?;
        bots.push(bot.to_string());
        scripts.push(script.to_string());
        names.push(name.to_string());
        hashes.push(hash);
    }
    let mut lo = 1;
    while lo <= n {
        let hi = (lo + CHUNK - 1).min(n);
        crate::db::sql::sql(FILL)
            .bind::<BigInt, _>(lo)
            .bind::<BigInt, _>(hi)
            .bind::<BigInt, _>(n)
            .bind::<Array<Text>, _>(&bots)
            .bind::<Array<Text>, _>(&scripts)
            .bind::<Array<Text>, _>(&names)
            .bind::<Array<Text>, _>(&hashes)
            .execute(conn)?;
        lo = hi + 1;
    }
    diesel::sql_query("ANALYZE workflow_executions, workflow_steps, journal").execute(conn)?;
    Ok(())
}

/// One chunk (`g` from $1 to $2 of $3): the executions, then the steps and journal of
/// every fourth, from the rows the insert returns. `t` runs from 30 days ago to an hour
/// ago as `g` grows, so ids and creation times grow together.
const FILL: &str = "\
WITH x AS ( \
  SELECT g, t, 1 + (g % array_length($4::text[], 1))::int AS s, md5(random()::text || g::text) AS h, \
    CASE WHEN g % 20 = 0 THEN 'cancelled' WHEN g % 10 = 3 THEN 'failed' ELSE 'completed' END AS status \
  FROM (SELECT g, now() - interval '1 hour' - (($3 - g)::float8 / greatest($3, 1)) * interval '30 days' AS t \
        FROM generate_series($1::bigint, $2::bigint) AS g) AS gt), \
e AS ( \
  INSERT INTO workflow_executions (id, kind, bot, script, script_hash, entry, name, status, input, variables, \
    result, error, runs, created_at, updated_at, finished_at) \
  SELECT (lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') || '7' || substr(h, 1, 3) \
          || substr('89ab', 1 + (g % 4)::int, 1) || substr(h, 4, 15))::uuid, \
    'workflow', ($4::text[])[s], ($5::text[])[s], ($7::text[])[s], 0, ($6::text[])[s], status, \
    jsonb_build_object('order_id', g, 'customer', 'customer-' || (g % 5000)), \
    jsonb_build_object('order_id', g, 'customer', 'customer-' || (g % 5000), 'order_amount', g % 300, 'n', g), \
    CASE WHEN status = 'completed' THEN jsonb_build_object('resolution', 'refund', 'amount', g % 300) END, \
    CASE WHEN status = 'failed' THEN ($5::text[])[s] || '.bas:3:9: BOT: bot ''order-checker'' failed: order ' || g || ' not found' END, \
    1 + (g % 3)::int, t, t + (50 + g % 950) * interval '1 millisecond', t + (50 + g % 950) * interval '1 millisecond' \
  FROM x RETURNING id, status, variables, created_at, finished_at), \
picked AS (SELECT * FROM e WHERE (variables->>'n')::bigint % 4 = 0), \
st AS ( \
  INSERT INTO workflow_steps (execution_id, key, label, kind, status, result, error, attempts, started_at, finished_at) \
  SELECT id, k::text, k::text, CASE WHEN k = 3 THEN 'parallel' ELSE 'bot' END, \
    CASE WHEN k = 3 AND status <> 'completed' THEN 'failed' ELSE 'completed' END, \
    CASE WHEN k = 3 AND status <> 'completed' THEN NULL ELSE jsonb_build_object('ok', true, 'step', k) END, \
    CASE WHEN k = 3 AND status <> 'completed' THEN 'order not found' END, 1, \
    created_at + (k - 1) * interval '10 milliseconds', created_at + k * interval '10 milliseconds' \
  FROM picked CROSS JOIN generate_series(1, 3) AS k) \
INSERT INTO journal (execution_id, key, value, created_at) \
SELECT id, CASE WHEN k = 3 AND status <> 'completed' THEN '3!fail#1' ELSE k || '!end' END, \
  CASE WHEN k = 3 AND status <> 'completed' THEN jsonb_build_object('error', 'order not found', 'retry', false) \
       ELSE jsonb_build_object('ok', true, 'step', k) END, \
  created_at + k * interval '10 milliseconds' \
FROM picked CROSS JOIN generate_series(1, 3) AS k";

#[derive(QueryableByName)]
struct Bytes {
    #[diesel(sql_type = Text)]
    relation: String,
    #[diesel(sql_type = BigInt)]
    bytes: i64,
}

/// Bytes on disk of every table and index of the schema (heap, TOAST, free space and
/// visibility maps, each index), after a checkpoint so that nothing waits in buffers.
fn relation_sizes(conn: &mut PgConnection) -> Result<Vec<(String, i64)>, Error> {
    diesel::sql_query("CHECKPOINT").execute(conn)?;
    let rows: Vec<Bytes> = diesel::sql_query(
        "SELECT c.relname::text AS relation, \
           (pg_relation_size(c.oid) + pg_relation_size(c.oid, 'fsm') + pg_relation_size(c.oid, 'vm') \
            + CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) ELSE 0 END)::bigint AS bytes \
         FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace \
         WHERE ns.nspname = 'public' AND c.relkind IN ('r', 'i')",
    )
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.relation, r.bytes)).collect())
}

/// Database growth per suspended workflow: `n` workflows parked in a timer (`WAIT
/// 36000`), the size of every table and index before and after; the growth of each
/// relation per workflow goes to `extra.disk_shares` (what each byte is), the whole
/// database's growth per workflow is the figure.
pub async fn suspended_disk(inst: &Instance, n: usize, extra: &mut Extra) -> Result<f64, String> {
    let rt = inst.rt.clone();
    let before = tokio::task::spawn_blocking(move || {
        let mut c = rt.conn().map_err(|e| e.to_string())?;
        relation_sizes(&mut c).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    let db_before = database_size(inst).await?;
    // Eight starters at once, each a run to the timer and its commit.
    let mut starters = Vec::new();
    for k in 0..8 {
        let rt = inst.rt.clone();
        starters.push(tokio::task::spawn_blocking(move || {
            for _ in (k..n).step_by(8) {
                rt.start_workflow("bench", "parked", json!({}))
                    .map_err(|e| e.to_string())?;
            }
            Ok::<(), String>(())
        }));
    }
    for s in starters {
        s.await.map_err(|e| e.to_string())??;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(
        &inst.rt,
        "SELECT count(*) AS n FROM workflow_executions WHERE script = 'parked' AND status = 'waiting'",
    )
    .await?
        < n as i64
    {
        if Instant::now() > deadline {
            return Err("scale: parked workflows did not all suspend".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rt = inst.rt.clone();
    let after = tokio::task::spawn_blocking(move || {
        let mut c = rt.conn().map_err(|e| e.to_string())?;
        relation_sizes(&mut c).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    let db_after = database_size(inst).await?;
    let mut shares: Vec<DiskShare> = after
        .iter()
        .map(|(rel, a)| {
            let b = before.iter().find(|(r, _)| r == rel).map_or(0, |(_, b)| *b);
            DiskShare {
                relation: rel.clone(),
                bytes_per_workflow: (a - b) as f64 / n as f64,
            }
        })
        .filter(|s| s.bytes_per_workflow > 0.0)
        .collect();
    shares.sort_by(|a, b| b.bytes_per_workflow.total_cmp(&a.bytes_per_workflow));
    extra.disk_shares = shares;
    Ok((db_after - db_before) as f64 / n as f64)
}

async fn database_size(inst: &Instance) -> Result<i64, String> {
    count(
        &inst.rt,
        "SELECT pg_database_size(current_database())::bigint AS n",
    )
    .await
}

/// The three-step throughput with an empty history, then with `n` finished executions
/// written by [`fill_finished_executions`] (vacuumed, as autovacuum would, and written
/// out by a checkpoint): the ratio of the second to the first.
pub async fn throughput_at(
    inst: &Instance,
    url: &str,
    n: i64,
    secs: f64,
    extra: &mut Extra,
) -> Result<f64, String> {
    let addr = inst.addr.ok_or("no address")?;
    let empty = super::throughput::throughput(addr, "three", 64, secs).await?;
    let url = url.to_string();
    let t = Instant::now();
    tokio::task::spawn_blocking(move || {
        let mut conn = crate::db::connect(&url)?;
        fill_finished_executions(&mut conn, n).map_err(|e| e.to_string())?;
        diesel::sql_query("VACUUM (ANALYZE) workflow_executions, workflow_steps, journal")
            .execute(&mut conn)
            .map_err(|e| e.to_string())?;
        // The history's pages written out now, not by a checkpoint in the middle of the
        // measurement: what is measured is new work beside a million old executions,
        // not the writing of those.
        diesel::sql_query("CHECKPOINT")
            .execute(&mut conn)
            .map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    })
    .await
    .map_err(|e| e.to_string())??;
    extra.fill_secs = t.elapsed().as_secs_f64();
    let full = super::throughput::throughput(addr, "three", 64, secs).await?;
    extra.throughput_empty = empty;
    extra.throughput_full = full;
    Ok(full / empty)
}

/// 100,000 due workflows running again after a restart (see [`super::recovery`]).
pub async fn recovery_100k(url: &str, bots: &Path, extra: &mut Extra) -> Result<f64, String> {
    let mut own = Extra::default();
    let secs = super::recovery::recovery(url, bots, 100_000, &mut own).await?;
    extra.recovery_100k_completed_secs = own.recovery_completed_secs;
    Ok(secs)
}
