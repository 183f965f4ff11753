//! The scheduler: claims runnable executions (new, woken, due timers, lapsed leases of a
//! dead instance) in batches with `FOR UPDATE SKIP LOCKED`, runs them on blocking
//! threads, renews the leases of what runs, and listens for wake-ups from other
//! instances (PostgreSQL `NOTIFY botserver_wake`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;
use tokio::sync::{watch, OwnedSemaphorePermit};

use super::Runtime;
use crate::db::executions::ExecRow;
use crate::db::leases;
use crate::wakeup::RedisState;

/// Runs the scheduler until `shutdown` turns true, then waits for the runs in progress
/// and releases this instance's leases.
///
/// Claimed executions wait in a queue for a run slot (their leases are renewed from the
/// moment they are claimed); the queue is refilled in large batches when it runs low, so
/// a backlog (a restart with thousands of due timers) costs one claim per batch, not one
/// per finished run. A claim is attempted only when work may exist: after a wake-up
/// (local or from another instance), at each poll (due timers), or while the last claim
/// came back full.
pub async fn run(rt: Arc<Runtime>, mut shutdown: watch::Receiver<bool>) {
    let permits = rt.permits.clone();
    let slots = rt.config.max_concurrent_runs;
    let renewer = tokio::spawn(renew_leases(rt.clone(), shutdown.clone()));
    let listener = spawn_listener(rt.clone(), shutdown.clone());
    let mut queue: VecDeque<(ExecRow, Json)> = VecDeque::new();
    let mut look = true;
    // A steady poll (due timers, lapsed leases), not reset by other wake-ups.
    let mut poll = tokio::time::interval(rt.config.poll_interval);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if *shutdown.borrow() {
            break;
        }
        while !queue.is_empty() {
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                break;
            };
            if let Some((exec, journal)) = queue.pop_front() {
                start_run(&rt, exec, journal, permit);
            }
        }
        // Refilled while a claim's worth of runs is still queued: the runs drain the
        // queue faster than a claim returns, and a queue left to empty first idles the
        // slots meanwhile.
        let want = (slots * 8).min(1024).saturating_sub(queue.len());
        if look && slots > 0 && queue.len() <= slots * 4 && want > 0 {
            let rt2 = rt.clone();
            let claimed = tokio::task::spawn_blocking(move || {
                let mut conn = rt2.conn()?;
                leases::claim(&mut conn, &rt2.owner, rt2.config.lease_secs, want as i64)
            })
            .await;
            match claimed {
                Ok(Ok(rows)) => {
                    // A full batch: there may be more behind it.
                    look = rows.len() == want;
                    if !rows.is_empty() {
                        tracing::trace!("claimed {}", rows.len());
                        if let Ok(mut running) = rt.running.lock() {
                            running.extend(rows.iter().map(|(e, _)| e.id));
                        }
                        queue.extend(rows);
                        continue;
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!("claiming executions failed: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => tracing::error!("claim task failed: {e}"),
            }
        }
        tokio::select! {
            // A slot came free (whoever held it): start the next queued run.
            permit = permits.clone().acquire_owned(), if !queue.is_empty() => {
                if let (Ok(permit), Some((exec, journal))) = (permit, queue.pop_front()) {
                    start_run(&rt, exec, journal, permit);
                }
            }
            _ = rt.bus.wake.notified() => { look = true; }
            _ = poll.tick() => { look = true; }
            _ = shutdown.changed() => {}
        }
    }
    // Let runs in progress finish (bounded), then give up our leases (the queued ones'
    // too: they are released with the rest).
    let all = slots as u32;
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let _all = permits.acquire_many(all).await;
        // Runs that finished their work and only await the group commit hold no slot.
        while !rt.group.idle() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    renewer.abort();
    drop(listener);
    let rt2 = rt.clone();
    let _ = tokio::task::spawn_blocking(move || {
        if let Ok(mut conn) = rt2.conn() {
            let _ = leases::release_all(&mut conn, &rt2.owner);
        }
    })
    .await;
}

/// Runs a claimed execution on a blocking thread holding its run slot.
fn start_run(rt: &Arc<Runtime>, exec: ExecRow, journal: Json, permit: OwnedSemaphorePermit) {
    let rt = rt.clone();
    tokio::task::spawn_blocking(move || {
        let id = exec.id;
        if let Err(e) = rt.run_claimed(exec, journal, Some(permit)) {
            tracing::debug!(execution = %id, "run ended with: {e}");
        }
        if let Ok(mut running) = rt.running.lock() {
            running.remove(&id);
        }
    });
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
                if let Err(e) = leases::renew(&mut conn, &rt2.owner, &ids, rt2.config.lease_secs) {
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
            let listening = ["LISTEN botserver_wake", "LISTEN botserver_done"]
                .into_iter()
                .all(|q| diesel::sql_query(q).execute(&mut *conn).is_ok());
            if !listening {
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
            'poll: while !*shutdown.borrow() {
                // Reading notifications is a non-blocking read of the socket, no round trip.
                let mut woke = false;
                for n in conn.notifications_iter() {
                    match n {
                        Ok(n) if n.channel == "botserver_done" => rt.bus.forward_done(&n.payload),
                        Ok(_) => woke = true,
                        Err(_) => break 'poll,
                    }
                }
                // With Redis up, Redis does the waking; PostgreSQL takes over when it is down.
                if woke {
                    tracing::trace!("notification");
                }
                if woke && rt.bus.redis() != RedisState::Ok {
                    rt.bus.wake.notify_one();
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            let _ = diesel::sql_query("UNLISTEN *").execute(&mut *conn);
        }
    })
}
