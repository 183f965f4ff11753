//! Memory and threads of suspended workflows.

use std::time::{Duration, Instant};

use serde_json::json;

use super::instance::count;
use super::report::Extra;
use crate::instance::Instance;

/// A number field of `/proc/self/status` (`VmRSS:` in KiB, `Threads:`).
pub fn proc_status(field: &str) -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Memory per suspended workflow: RSS growth over `n` workflows parked in a timer.
pub async fn suspended_memory(inst: &Instance, n: usize, extra: &mut Extra) -> Result<f64, String> {
    extra.threads_before = proc_status("Threads:").unwrap_or(0);
    let before = proc_status("VmRSS:").unwrap_or(0) as f64;
    let rt = inst.rt.clone();
    tokio::task::spawn_blocking(move || {
        for _ in 0..n {
            rt.start_workflow("bench", "parked", json!({}))
                .map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    })
    .await
    .map_err(|e| e.to_string())??;
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(&inst.rt, "SELECT count(*) AS n FROM workflow_executions WHERE script = 'parked' AND status = 'waiting'").await?
        < n as i64
    {
        if Instant::now() > deadline {
            return Err("parked workflows did not all suspend".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    extra.threads_after = proc_status("Threads:").unwrap_or(0);
    let after = proc_status("VmRSS:").unwrap_or(0) as f64;
    Ok(((after - before) / n as f64).max(0.0))
}
