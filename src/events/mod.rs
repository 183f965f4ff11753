//! The wake-up bus between server instances. PostgreSQL is the source of truth for
//! events and waits (see `db::events`); this only *wakes* instances early, so a lost
//! message delays nothing by more than the scheduler's poll interval and loses nothing.
//!
//! Two carriers: PostgreSQL `NOTIFY botserver_wake`, sent inside the committing
//! transaction and always on (see `workflow::scheduler`), and — with the cargo feature
//! `redis` and `REDIS_URL` set — Redis pub/sub on the channel `botserver:wake`. When
//! Redis goes away the server says so once (log and `/health`), keeps working from
//! PostgreSQL, and reconnects.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::workflow::Runtime;

/// The Redis channel instances wake each other on.
pub const CHANNEL: &str = "botserver:wake";

/// The Redis channel (and, as `botserver_done`, the NOTIFY channel) on which an instance
/// says that executions it ran for another instance's sake have ended: a result long
/// poll on the instance where the execution started answers at once instead of at its
/// next periodic look. The payload is execution ids separated by commas.
pub const DONE_CHANNEL: &str = "botserver:done";

/// Hands ended executions announced by another instance to this one's waiters.
pub fn forward_done(rt: &Runtime, payload: &str) {
    for id in payload.split(',') {
        if let Ok(id) = uuid::Uuid::parse_str(id.trim()) {
            let _ = rt.finished.send(id);
        }
    }
}

enum Note {
    Wake,
    Done(uuid::Uuid),
}

const OK: u8 = 1;
const DOWN: u8 = 2;
const CONNECTING: u8 = 3;

/// The state of the Redis carrier, for `/health`.
#[derive(Default)]
pub struct RedisStatus(AtomicU8);

impl RedisStatus {
    pub fn describe(&self) -> &'static str {
        match self.0.load(Ordering::Relaxed) {
            OK => "ok",
            DOWN => "down",
            CONNECTING => "connecting",
            _ => "off", // never started: no REDIS_URL
        }
    }

    /// Records a new state; true when it changed (so the change is logged once).
    fn set(&self, v: u8) -> bool {
        self.0.swap(v, Ordering::Relaxed) != v
    }
}

/// Sends wake-ups to the other instances. Cheap to call from blocking code.
#[derive(Clone, Default)]
pub struct Announcer {
    tx: Option<mpsc::UnboundedSender<Note>>,
}

impl Announcer {
    /// Tells other instances there is new work (after a commit that made some runnable).
    pub fn announce(&self) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Note::Wake);
        }
    }

    /// Tells other instances that an execution has ended; false when there is no Redis
    /// carrier to tell them by.
    pub fn done(&self, id: uuid::Uuid) -> bool {
        match &self.tx {
            Some(tx) => tx.send(Note::Done(id)).is_ok(),
            None => false,
        }
    }
}

/// Starts the Redis carrier when a URL is given and the feature is built in.
/// Returns the announcer the runtime uses after commits.
pub fn start(
    rt: Arc<Runtime>,
    redis_url: Option<String>,
    status: Arc<RedisStatus>,
    shutdown: watch::Receiver<bool>,
) -> Announcer {
    let Some(url) = redis_url else {
        return Announcer::default();
    };
    start_redis(rt, url, status, shutdown)
}

#[cfg(not(feature = "redis"))]
fn start_redis(
    _: Arc<Runtime>,
    _: String,
    status: Arc<RedisStatus>,
    _: watch::Receiver<bool>,
) -> Announcer {
    tracing::warn!(
        "REDIS_URL is set but this build has no `redis` feature; waking through PostgreSQL only"
    );
    Announcer::default()
}

#[cfg(feature = "redis")]
fn start_redis(
    rt: Arc<Runtime>,
    url: String,
    status: Arc<RedisStatus>,
    shutdown: watch::Receiver<bool>,
) -> Announcer {
    let client = match redis::Client::open(url.as_str()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("invalid REDIS_URL: {e}; waking through PostgreSQL only");
            status.set(DOWN);
            return Announcer::default();
        }
    };
    status.set(CONNECTING);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(subscriber(
        client.clone(),
        rt,
        status.clone(),
        shutdown.clone(),
    ));
    tokio::spawn(publisher(client, rx, status, shutdown));
    Announcer { tx: Some(tx) }
}

#[cfg(feature = "redis")]
fn went_down(status: &RedisStatus, e: &dyn std::fmt::Display) {
    if status.set(DOWN) {
        tracing::warn!("Redis is unreachable ({e}); waking through PostgreSQL until it is back");
    }
}

#[cfg(feature = "redis")]
fn came_up(status: &RedisStatus) {
    if status.set(OK) {
        tracing::info!("Redis connected: instances wake each other through it");
    }
}

/// Listens on the channel; every message wakes this instance's scheduler.
#[cfg(feature = "redis")]
async fn subscriber(
    client: redis::Client,
    rt: Arc<Runtime>,
    status: Arc<RedisStatus>,
    shutdown: watch::Receiver<bool>,
) {
    use futures::StreamExt;
    while !*shutdown.borrow() {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&[CHANNEL, DONE_CHANNEL]).await {
                Ok(()) => {
                    came_up(&status);
                    // Wake once: anything announced while we were away is picked up now.
                    rt.wake.notify_one();
                    let mut stream = pubsub.on_message();
                    while let Some(msg) = stream.next().await {
                        if msg.get_channel_name() == DONE_CHANNEL {
                            if let Ok(payload) = msg.get_payload::<String>() {
                                forward_done(&rt, &payload);
                            }
                        } else {
                            rt.wake.notify_one();
                        }
                    }
                    went_down(&status, &"the subscription ended");
                }
                Err(e) => went_down(&status, &e),
            },
            Err(e) => went_down(&status, &e),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// Publishes announcements, coalescing bursts: one wake-up message, and one message
/// with all the ended executions.
#[cfg(feature = "redis")]
async fn publisher(
    client: redis::Client,
    mut rx: mpsc::UnboundedReceiver<Note>,
    status: Arc<RedisStatus>,
    shutdown: watch::Receiver<bool>,
) {
    let mut conn = None;
    while let Some(first) = rx.recv().await {
        let mut wake = false;
        let mut done = Vec::new();
        let mut note = Some(first);
        while let Some(n) = note {
            match n {
                Note::Wake => wake = true,
                Note::Done(id) => done.push(id.to_string()),
            }
            note = rx.try_recv().ok();
        }
        if *shutdown.borrow() {
            return;
        }
        if conn.is_none() {
            match client.get_multiplexed_async_connection().await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    went_down(&status, &e);
                    continue;
                }
            }
        }
        if let Some(c) = conn.as_mut() {
            let mut pipe = redis::pipe();
            if wake {
                pipe.cmd("PUBLISH").arg(CHANNEL).arg("").ignore();
            }
            if !done.is_empty() {
                pipe.cmd("PUBLISH")
                    .arg(DONE_CHANNEL)
                    .arg(done.join(","))
                    .ignore();
            }
            let sent: redis::RedisResult<()> = pipe.query_async(c).await;
            if let Err(e) = sent {
                went_down(&status, &e);
                conn = None;
            }
        }
    }
}
