//! Batched publishing: the events published through the API while others are being
//! written go to one committer thread, which writes each of them exactly as a publish of
//! its own would (the event stored, the waits it ends removed, the executions it wakes
//! claimed or marked runnable, its `ON EVENT` handlers started), all in one transaction:
//! the names' locks taken together in one statement, a statement per event to store it,
//! one statement that wakes every execution the batch wakes, and one `BEGIN` and one
//! `COMMIT` (one WAL flush) for the whole batch instead of one each per event. Nothing is acknowledged
//! before that commit. A batch that fails is handed back: each of its publishes is then
//! written in a transaction of its own, as without batching, so one that fails fails
//! alone and reports why.
//!
//! The events of a batch are written in the order they arrived, so each gets a larger
//! id than those before it, as separate publishes in that order would.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use serde_json::Value as Json;
use tokio::sync::Semaphore;

use super::claims::{self, Claimer, Published};
use crate::db::{events, PgPool};
use crate::error::{Error, Result};

/// What a publish claims for its instance: the instance's name in leases, how long a
/// claim lasts, its run slots (see [`Claimer`]).
pub struct ClaimFor {
    /// This instance's name in leases.
    pub owner: String,
    /// How long a claim lasts without renewal.
    pub lease_secs: f64,
    /// The instance's run slots.
    pub permits: Arc<Semaphore>,
}

impl ClaimFor {
    fn claimer(&self) -> Claimer<'_> {
        Claimer {
            owner: &self.owner,
            lease_secs: self.lease_secs,
            permits: &self.permits,
        }
    }
}

struct Request {
    name: String,
    payload: Json,
    claim: Option<ClaimFor>,
    reply: tokio::sync::oneshot::Sender<Option<Published>>,
}

/// The most events written in one transaction.
const MAX_BATCH: usize = 256;

/// The publishing committer: a thread with one connection.
pub struct PublishCommit {
    tx: Mutex<mpsc::Sender<Request>>,
    /// Events written in batches of two or more.
    batched: Arc<AtomicU64>,
}

impl PublishCommit {
    /// Starts the committer thread over `pool`.
    pub fn start(pool: PgPool) -> PublishCommit {
        let (tx, rx) = mpsc::channel::<Request>();
        let batched = Arc::new(AtomicU64::new(0));
        let counted = batched.clone();
        std::thread::spawn(move || committer(pool, rx, &counted));
        PublishCommit {
            tx: Mutex::new(tx),
            batched,
        }
    }

    /// Events written so far in batches of two or more.
    pub fn batched(&self) -> u64 {
        self.batched.load(Ordering::Relaxed)
    }

    /// Hands a publish of `name` with `payload` from outside any execution to the
    /// committer; the answer comes once it is durable, with what it woke or started
    /// claimed through `claim` as far as its slots go. `None` (also as the answer) when
    /// the committer is gone or the batch it was in could not be written (nothing of it
    /// was): the caller then publishes it in a transaction of its own, which reports
    /// the problem.
    pub fn send(
        &self,
        name: &str,
        payload: &Json,
        claim: Option<ClaimFor>,
    ) -> Option<tokio::sync::oneshot::Receiver<Option<Published>>> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.tx
            .lock()
            .ok()?
            .send(Request {
                name: name.to_string(),
                payload: payload.clone(),
                claim,
                reply,
            })
            .ok()?;
        Some(answer)
    }
}

fn committer(pool: PgPool, rx: mpsc::Receiver<Request>, batched: &AtomicU64) {
    let mut conn = None;
    while let Some(batch) = super::group::next_batch(&rx, MAX_BATCH) {
        if conn.is_none() {
            conn = pool.get().ok();
        }
        let written = match conn.as_mut() {
            Some(c) => write_batch(c, &batch),
            None => Err(Error::Internal("no connection".into())),
        };
        match written {
            Ok(published) if published.len() == batch.len() => {
                if batch.len() > 1 {
                    batched.fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
                for (r, p) in batch.into_iter().zip(published) {
                    let _ = r.reply.send(Some(p));
                }
            }
            result => {
                if let Err(e) = result {
                    tracing::debug!(
                        "a batch of {} publishes failed, each is published alone: {e}",
                        batch.len()
                    );
                }
                // A connection that failed is replaced for the next batch.
                conn = None;
                for r in batch {
                    let _ = r.reply.send(None);
                }
            }
        }
    }
}

/// Writes a batch of publishes in one transaction; the publishes' outcomes in order.
fn write_batch(conn: &mut PgConnection, batch: &[Request]) -> Result<Vec<Published>> {
    if let [one] = batch {
        // Alone, as without the committer: fewer statements than a batch's.
        return conn
            .transaction::<_, Error, _>(|conn| {
                claims::publish(
                    conn,
                    &one.name,
                    &one.payload,
                    claims::Source::default(),
                    one.claim.as_ref().map(ClaimFor::claimer).as_ref(),
                )
            })
            .map(|p| vec![p]);
    }
    conn.transaction::<_, Error, _>(|conn| {
        // The executions woken are found by key, in the order given (`wake_many`), and
        // no statement scans a whole table on statistics taken when it was small.
        conn.batch_execute(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off",
        )?;
        let names: Vec<String> = batch.iter().map(|r| r.name.clone()).collect();
        events::lock_names(conn, &names)?;
        let all: Vec<claims::ToPublish> = batch
            .iter()
            .map(|r| claims::ToPublish {
                name: &r.name,
                payload: &r.payload,
                claimer: r.claim.as_ref().map(ClaimFor::claimer),
            })
            .collect();
        claims::publish_batch(conn, &all)
    })
}
