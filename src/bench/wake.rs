//! An event published on one instance → the workflow waiting for it run again.

use std::time::{Duration, Instant};

use serde_json::json;

use super::report::{percentile, sorted};
use crate::db::executions;
use crate::db::states::ExecStatus;
use crate::instance::Instance;

/// Publish on `publisher` → the workflow waiting on `waiter` has run again (ms), on
/// whichever of the two ran it.
pub async fn event_wake(
    waiter: &Instance,
    publisher: &Instance,
    n: usize,
    tag: &str,
) -> Result<(f64, f64), String> {
    let mut lat = Vec::new();
    for i in 0..n {
        let name = format!("bench-{tag}-{i}");
        let rt = waiter.rt.clone();
        let input = json!({ "n": name });
        let (id, _) =
            tokio::task::spawn_blocking(move || rt.start_workflow("bench", "waiter", input))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
        let waiting_since = Instant::now();
        loop {
            let rt = waiter.rt.clone();
            let status = tokio::task::spawn_blocking(move || {
                let mut c = rt.conn().ok()?;
                executions::get(&mut c, id).ok().flatten().map(|e| e.status)
            })
            .await
            .map_err(|e| e.to_string())?;
            if status == Some(ExecStatus::Waiting) {
                break;
            }
            if waiting_since.elapsed() > Duration::from_secs(10) {
                return Err(format!("waiter {id} never started waiting"));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let mut finished = waiter.rt.bus.finished.subscribe();
        let mut finished_there = publisher.rt.bus.finished.subscribe();
        let t0 = Instant::now();
        let rt = publisher.rt.clone();
        let ev = name.clone();
        tokio::task::spawn_blocking(move || rt.publish_event(&ev, &json!({ "i": i })))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let woke = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let got = tokio::select! {
                    r = finished.recv() => r,
                    r = finished_there.recv() => r,
                };
                match got {
                    Ok(done) if done == id => return true,
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return false,
                }
            }
        })
        .await;
        if !matches!(woke, Ok(true)) {
            return Err(format!("workflow {id} was not woken by event {name}"));
        }
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let lat = sorted(lat);
    Ok((percentile(&lat, 0.5), percentile(&lat, 0.99)))
}
