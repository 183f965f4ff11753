//! The overhead of one journaled step.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use super::report::{percentile, sorted};
use crate::db::executions;
use crate::db::states::{ExecKind, ExecStatus};
use crate::workflow::Runtime;

/// Runs one execution of `script` to its end on this thread; returns the wall time.
pub fn run_inline(rt: &Runtime, script: &str) -> Result<Duration, String> {
    let mut conn = rt.conn().map_err(|e| e.to_string())?;
    let (name, hash) = rt
        .current_script(&mut conn, "bench", script)
        .map_err(|e| e.to_string())?;
    let id = Uuid::now_v7();
    let new = executions::NewExecution::top(
        id,
        ExecKind::Workflow,
        "bench",
        (name, hash),
        None,
        json!({ "workflow_id": id }),
    )
    .owned_by(Some(rt.owner.clone()));
    executions::create(&mut conn, &new, rt.config.lease_secs).map_err(|e| e.to_string())?;
    drop(conn);
    let t = Instant::now();
    let report = rt.run_owned(id).map_err(|e| e.to_string())?;
    let took = t.elapsed();
    if report.status != ExecStatus::Completed {
        return Err(format!("{script} ended {}", report.status));
    }
    Ok(took)
}

/// Per-step cost of journaling: 100 STEPs against the same 100 lines without STEP.
pub async fn step_overhead(rt: Arc<Runtime>) -> Result<(f64, f64), String> {
    tokio::task::spawn_blocking(move || {
        for _ in 0..5 {
            run_inline(&rt, "plain")?;
            run_inline(&rt, "steps")?;
        }
        let mut plain = Vec::new();
        let mut steps = Vec::new();
        for _ in 0..40 {
            plain.push(run_inline(&rt, "plain")?.as_secs_f64() * 1000.0);
            steps.push(run_inline(&rt, "steps")?.as_secs_f64() * 1000.0);
        }
        let base = percentile(&sorted(plain), 0.5);
        let per_step = sorted(
            steps
                .iter()
                .map(|s| ((s - base) / 100.0).max(0.0))
                .collect(),
        );
        Ok((percentile(&per_step, 0.5), percentile(&per_step, 0.99)))
    })
    .await
    .map_err(|e| e.to_string())?
}
