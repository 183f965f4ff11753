//! A storm of wake-ups: `n` workflows each waiting in `WAIT FOR EVENT` for an event of
//! its own name, then every event published over HTTP as fast as the API takes them
//! (64 publishers). Measured per workflow: the publish request sent → the workflow
//! running again (its run's transaction began; `finished_at` of the `RETURN` right
//! after the wait, stamped with the transaction's start by PostgreSQL, on the same
//! host clock as the publisher's stamp).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryableByName, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use super::http::Http;
use super::instance::count_with;
use super::report::{percentile, sorted};
use crate::instance::Instance;

/// What [`wakeups`] measured.
pub struct Measured {
    /// Workflows running again per second, first publish to last wake-up.
    pub per_sec: f64,
    /// Publish → running again, median (ms).
    pub p50_ms: f64,
    /// Publish → running again, 99th percentile (ms).
    pub p99_ms: f64,
}

#[derive(QueryableByName)]
struct Ended {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    finished_at: Option<DateTime<Utc>>,
}

/// `n` waiting workflows woken by their own events, published over HTTP to `inst`.
pub async fn wakeups(inst: &Instance, n: usize) -> Result<Measured, String> {
    let addr: SocketAddr = inst.addr.ok_or("no address")?;
    let tag = Uuid::now_v7().simple().to_string();
    let names: Arc<Vec<String>> = Arc::new((0..n).map(|i| format!("wake-{tag}-{i}")).collect());
    // The waiters, started by eight starters at once (each start runs to its wait).
    let ids = Arc::new(Mutex::new(vec![Uuid::nil(); n]));
    let mut starters = Vec::new();
    for k in 0..8 {
        let (rt, names, ids) = (inst.rt.clone(), names.clone(), ids.clone());
        starters.push(tokio::task::spawn_blocking(move || {
            for i in (k..n).step_by(8) {
                let (id, _) = rt
                    .start_workflow("bench", "waiter", json!({ "n": names[i] }))
                    .map_err(|e| e.to_string())?;
                if let Ok(mut ids) = ids.lock() {
                    ids[i] = id;
                }
            }
            Ok::<(), String>(())
        }));
    }
    for s in starters {
        s.await.map_err(|e| e.to_string())??;
    }
    let pattern = format!("wake-{tag}-%");
    let waiting_sql = "SELECT count(*) AS n FROM workflow_executions WHERE script = 'waiter' AND status = 'waiting' AND input->>'n' LIKE $1";
    let deadline = Instant::now() + Duration::from_secs(120);
    while count_with(&inst.rt, waiting_sql, &pattern).await? < n as i64 {
        if Instant::now() > deadline {
            return Err("wakeups: the waiters did not all start waiting".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The storm: 64 publishers take the next event each.
    let next = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(Mutex::new(vec![None::<DateTime<Utc>>; n]));
    let mut publishers = Vec::new();
    for _ in 0..64 {
        let (next, sent, names) = (next.clone(), sent.clone(), names.clone());
        publishers.push(tokio::spawn(async move {
            let mut http = Http::connect(addr).await.map_err(|e| e.to_string())?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<(), String>(());
                }
                let body = json!({ "name": names[i], "payload": { "i": i } }).to_string();
                let at = Utc::now();
                let (st, text) = http
                    .request("POST", "/api/events", Some(&body))
                    .await
                    .map_err(|e| e.to_string())?;
                if st != 201 {
                    return Err(format!("publish failed ({st}): {text}"));
                }
                if let Ok(mut sent) = sent.lock() {
                    sent[i] = Some(at);
                }
            }
        }));
    }
    for p in publishers {
        p.await.map_err(|e| e.to_string())??;
    }
    let done_sql = "SELECT count(*) AS n FROM workflow_executions WHERE script = 'waiter' AND status = 'completed' AND input->>'n' LIKE $1";
    let deadline = Instant::now() + Duration::from_secs(120);
    while count_with(&inst.rt, done_sql, &pattern).await? < n as i64 {
        if Instant::now() > deadline {
            return Err("wakeups: not every woken workflow completed within 120 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let all: Vec<Uuid> = ids.lock().map(|v| v.clone()).unwrap_or_default();
    let rt = inst.rt.clone();
    let query = all.clone();
    let ended: Vec<Ended> = tokio::task::spawn_blocking(move || {
        let mut c = rt.conn().map_err(|e| e.to_string())?;
        diesel::sql_query("SELECT id, finished_at FROM workflow_executions WHERE id = ANY($1)")
            .bind::<Array<SqlUuid>, _>(query)
            .load(&mut *c)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    let ended: HashMap<Uuid, DateTime<Utc>> = ended
        .into_iter()
        .filter_map(|e| e.finished_at.map(|f| (e.id, f)))
        .collect();
    let sent = sent.lock().map(|s| s.clone()).unwrap_or_default();
    let mut lat = Vec::with_capacity(n);
    let (mut first, mut last) = (None::<DateTime<Utc>>, None::<DateTime<Utc>>);
    for (i, id) in all.iter().enumerate() {
        let (Some(at), Some(end)) = (sent[i], ended.get(id)) else {
            return Err(format!("wakeups: workflow {id} has no publish or no end"));
        };
        lat.push(((*end - at).num_microseconds().unwrap_or(0) as f64 / 1000.0).max(0.0));
        first = Some(first.map_or(at, |f| f.min(at)));
        last = Some(last.map_or(*end, |l| l.max(*end)));
    }
    let span = match (first, last) {
        (Some(f), Some(l)) => (l - f).num_microseconds().unwrap_or(1).max(1) as f64 / 1e6,
        _ => f64::NAN,
    };
    let lat = sorted(lat);
    Ok(Measured {
        per_sec: n as f64 / span,
        p50_ms: percentile(&lat, 0.5),
        p99_ms: percentile(&lat, 0.99),
    })
}
