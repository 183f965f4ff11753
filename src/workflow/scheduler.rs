//! The scheduler: claims runnable executions (new, woken, due timers, lapsed leases of a
//! dead instance) in batches with `FOR UPDATE SKIP LOCKED`, runs them on blocking
//! threads, renews the leases of what runs, and listens for wake-ups from other
//! instances (PostgreSQL `NOTIFY botserver_wake`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::Runtime;
use crate::db::executions;

/// Runs the scheduler until `shutdown` turns true, then waits for the runs in progress
/// and releases this instance's leases.
pub async fn run(rt: Arc<Runtime>, mut shutdown: watch::Receiver<bool>) {
    let permits = rt.permits.clone();
    let renewer = tokio::spawn(renew_leases(rt.clone(), shutdown.clone()));
    let listener = spawn_listener(rt.clone(), shutdown.clone());
    loop {
        if *shutdown.borrow() {
            break;
        }
        let free = permits.available_permits();
        // Claim ahead of the free run slots: one claim per batch rather than one per
        // finished run. Claimed executions wait here for a slot; their leases are renewed
        // from the moment they are claimed.
        let batch = (free * 4).min(256);
        let mut claimed = 0;
        if free > 0 {
            let rt2 = rt.clone();
            let ids = tokio::task::spawn_blocking(move || {
                let mut conn = rt2.conn()?;
                executions::claim(&mut conn, &rt2.owner, rt2.config.lease_secs, batch as i64)
            })
            .await;
            match ids {
                Ok(Ok(ids)) => {
                    claimed = ids.len();
                    if claimed > 0 {
                        tracing::trace!("claimed {claimed}");
                    }
                    if let Ok(mut running) = rt.running.lock() {
                        running.extend(ids.iter().map(|(e, _)| e.id));
                    }
                    for (exec, journal) in ids {
                        let id = exec.id;
                        let Ok(permit) = permits.clone().acquire_owned().await else {
                            break;
                        };
                        let rt3 = rt.clone();
                        tokio::task::spawn_blocking(move || {
                            let _permit = permit;
                            if let Err(e) = rt3.run_claimed(exec, journal) {
                                tracing::debug!(execution = %id, "run ended with: {e}");
                            }
                            if let Ok(mut running) = rt3.running.lock() {
                                running.remove(&id);
                            }
                            rt3.wake.notify_one();
                        });
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!("claiming executions failed: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => tracing::error!("claim task failed: {e}"),
            }
        }
        if claimed > 0 && claimed == batch {
            continue;
        }
        tokio::select! {
            _ = rt.wake.notified() => { tracing::trace!("scheduler woken"); }
            _ = tokio::time::sleep(rt.config.poll_interval) => {}
            _ = shutdown.changed() => {}
        }
    }
    // Let runs in progress finish (bounded), then give up our leases.
    let all = rt.config.max_concurrent_runs as u32;
    let _ = tokio::time::timeout(Duration::from_secs(10), permits.acquire_many(all)).await;
    renewer.abort();
    drop(listener);
    let rt2 = rt.clone();
    let _ = tokio::task::spawn_blocking(move || {
        if let Ok(mut conn) = rt2.conn() {
            let _ = executions::release_all(&mut conn, &rt2.owner);
        }
    })
    .await;
}

async fn renew_leases(rt: Arc<Runtime>, shutdown: watch::Receiver<bool>) {
    let every = Duration::from_secs_f64((rt.config.lease_secs / 3.0).max(0.2));
    loop {
        tokio::time::sleep(every).await;
        if *shutdown.borrow() {
            return;
        }
        let ids: Vec<uuid::Uuid> = rt
            .running
            .lock()
            .map(|r| r.iter().copied().collect())
            .unwrap_or_default();
        if ids.is_empty() {
            continue;
        }
        let rt2 = rt.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Ok(mut conn) = rt2.conn() {
                if let Err(e) =
                    executions::renew(&mut conn, &rt2.owner, &ids, rt2.config.lease_secs)
                {
                    tracing::warn!("renewing leases failed: {e}");
                }
            }
        })
        .await;
    }
}

/// A thread holding one connection with `LISTEN botserver_wake`; every notification
/// wakes the scheduler. Reconnects after errors.
fn spawn_listener(
    rt: Arc<Runtime>,
    shutdown: watch::Receiver<bool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        use diesel::RunQueryDsl;
        while !*shutdown.borrow() {
            let Ok(mut conn) = rt.pool.get() else {
                std::thread::sleep(Duration::from_secs(1));
                continue;
            };
            if crate::db::sql::sql("LISTEN botserver_wake")
                .execute(&mut *conn)
                .is_err()
            {
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
            'poll: while !*shutdown.borrow() {
                // Reading notifications is a non-blocking read of the socket, no round trip.
                let mut woke = false;
                for n in conn.notifications_iter() {
                    match n {
                        Ok(_) => woke = true,
                        Err(_) => break 'poll,
                    }
                }
                // With Redis up, Redis does the waking; PostgreSQL takes over when it is down.
                if woke {
                    tracing::trace!("notification");
                }
                if woke && rt.redis.describe() != "ok" {
                    rt.wake.notify_one();
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            let _ = crate::db::sql::sql("UNLISTEN *").execute(&mut *conn);
        }
    })
}
