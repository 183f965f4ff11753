//! Recovery: a new instance takes up suspended workflows whose timers are due (10,000 by
//! default, 100,000 in the scale part).

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;

use super::instance::{count_with, start};
use super::report::Extra;
use crate::db;
use crate::workflow::journal::{Journal, Op, Timer};

/// `n` suspended workflows with due timers (named `recovery-{n}`): a new instance starts →
/// all running again.
pub async fn recovery(url: &str, bots: &Path, n: i64, extra: &mut Extra) -> Result<f64, String> {
    let name = format!("recovery-{n}");
    {
        let mut conn = db::connect(url)?;
        diesel::sql_query(
            "INSERT INTO workflow_executions (id, kind, bot, script, script_hash, entry, name, status, waiting_for, wake_at, input, variables) \
             SELECT gen_random_uuid(), 'workflow', 'bench', 'sleeper', (SELECT hash FROM scripts WHERE bot = 'bench' AND name = 'sleeper' LIMIT 1), \
             0, $2, 'waiting', '{\"kind\": \"timer\"}', now() - interval '1 second', '{}', '{}' FROM generate_series(1, $1)",
        )
        .bind::<diesel::sql_types::BigInt, _>(n)
        .bind::<diesel::sql_types::Text, _>(&name)
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
        // The entry of their `WAIT 1`, long due.
        let key = Journal::new(Default::default(), usize::MAX).op_key(None, Op::Sleep);
        let due = serde_json::to_value(Timer {
            until: chrono::DateTime::UNIX_EPOCH,
        })
        .map_err(|e| e.to_string())?;
        diesel::sql_query(
            "INSERT INTO journal (execution_id, key, value) SELECT id, $1, $2 \
             FROM workflow_executions WHERE name = $3",
        )
        .bind::<diesel::sql_types::Text, _>(key.as_str())
        .bind::<diesel::sql_types::Jsonb, _>(due)
        .bind::<diesel::sql_types::Text, _>(&name)
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    }
    let t = Instant::now();
    let inst = start(url, bots, None, "bench-recovery", true, None).await?;
    let mut running_again = None;
    loop {
        // Counted through the partial indexes of waiting timers and running rows: with a
        // million finished executions in the table (the scale part), a scan by name
        // every 20 ms took a core from the recovery it measures.
        let waiting = count_with(
            &inst.rt,
            "SELECT count(*) AS n FROM workflow_executions WHERE status = 'waiting' AND wake_at IS NOT NULL AND name = $1",
            &name,
        )
        .await?;
        if waiting == 0 && running_again.is_none() {
            running_again = Some(t.elapsed().as_secs_f64());
        }
        let running = count_with(
            &inst.rt,
            "SELECT count(*) AS n FROM workflow_executions WHERE status = 'running' AND name = $1",
            &name,
        )
        .await?;
        let done = n - waiting - running;
        if done == n {
            extra.recovery_completed_secs = t.elapsed().as_secs_f64();
            break;
        }
        if t.elapsed() > Duration::from_secs(180) {
            return Err(format!(
                "recovery: only {done} of {n} completed after 180 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let failed = count_with(
        &inst.rt,
        "SELECT count(*) AS n FROM workflow_executions WHERE status <> 'completed' AND name = $1",
        &name,
    )
    .await?;
    inst.stop().await?;
    if failed > 0 {
        return Err(format!("recovery: {failed} of {n} did not complete"));
    }
    Ok(running_again.unwrap_or(extra.recovery_completed_secs))
}
