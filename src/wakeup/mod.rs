//! The wake-up bus between server instances ([`WakeBus`]). PostgreSQL is the source of
//! truth for events and waits (see `db::events`); this only *wakes* instances early, so
//! a lost message delays nothing by more than the scheduler's poll interval and loses
//! nothing. (The events of BASIC's `PUBLISH EVENT`/`ON EVENT` are `db::events` and
//! `workflow::claims`.)
//!
//! Two carriers: PostgreSQL `NOTIFY botserver_wake`, sent inside the committing
//! transaction and always on (see `workflow::scheduler`), and — with the cargo feature
//! `redis` and `REDIS_URL` set — Redis pub/sub on the channel `botserver:wake`. When
//! Redis goes away the server says so once (log and `/health`), keeps working from
//! PostgreSQL, and reconnects.

#![warn(missing_docs)]

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, watch, Notify};
use uuid::Uuid;

/// The Redis channel instances wake each other on.
pub const CHANNEL: &str = "botserver:wake";

/// The Redis channel (and, as `botserver_done`, the NOTIFY channel) on which an instance
/// says that executions it ran for another instance's sake have ended: a result long
/// poll on the instance where the execution started answers at once instead of at its
/// next periodic look. The payload is execution ids separated by commas.
pub const DONE_CHANNEL: &str = "botserver:done";

enum Note {
    Wake,
    Done(Uuid),
}

/// The state of the Redis carrier (`/health` shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisState {
    /// Never started: no `REDIS_URL`.
    Off,
    /// Connecting or reconnecting.
    Connecting,
    /// Subscribed: instances wake each other through it.
    Ok,
    /// Unreachable: instances wake each other through PostgreSQL until it is back.
    Down,
}

impl RedisState {
    /// As `/health` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            RedisState::Off => "off",
            RedisState::Connecting => "connecting",
            RedisState::Ok => "ok",
            RedisState::Down => "down",
        }
    }
}

/// The carrier's state, shared with its tasks: the subscriber's and the publisher's, each
/// set by what that task last saw of Redis. The carrier is up when the subscription is
/// and the publisher's last attempt (if any) worked.
#[derive(Default)]
struct RedisStatus {
    subscriber: AtomicU8,
    publisher: AtomicU8,
}

fn code(state: RedisState) -> u8 {
    match state {
        RedisState::Off => 0,
        RedisState::Ok => 1,
        RedisState::Down => 2,
        RedisState::Connecting => 3,
    }
}

fn state(code: u8) -> RedisState {
    match code {
        1 => RedisState::Ok,
        2 => RedisState::Down,
        3 => RedisState::Connecting,
        _ => RedisState::Off,
    }
}

impl RedisStatus {
    fn get(&self) -> RedisState {
        let s = state(self.subscriber.load(Ordering::Relaxed));
        let p = state(self.publisher.load(Ordering::Relaxed));
        match (s, p) {
            (RedisState::Down, _) | (_, RedisState::Down) => RedisState::Down,
            (RedisState::Ok, _) => RedisState::Ok,
            (s, _) => s,
        }
    }

    /// Records the state both tasks start in.
    fn set(&self, state: RedisState) {
        self.subscriber.store(code(state), Ordering::Relaxed);
        self.publisher.store(code(state), Ordering::Relaxed);
    }

    /// Records what one task saw; true when the carrier's state changed (so the change
    /// is logged once).
    fn saw(&self, publisher: bool, seen: RedisState) -> bool {
        let before = self.get();
        let slot = if publisher {
            &self.publisher
        } else {
            &self.subscriber
        };
        slot.store(code(seen), Ordering::Relaxed);
        self.get() != before
    }
}

/// The wake-up bus of one instance: what wakes its scheduler, where ends of executions
/// are announced to its result waiters, and the Redis carrier to and from the other
/// instances. Built before the runtime, which keeps it; cheap to use from blocking code.
pub struct WakeBus {
    /// Wakes this instance's scheduler early (new work, a wake-up, a notification).
    pub wake: Arc<Notify>,
    /// Ids of executions that ended, on this instance or announced by another (long
    /// polls listen here).
    pub finished: broadcast::Sender<Uuid>,
    redis: Arc<RedisStatus>,
    tx: Option<mpsc::UnboundedSender<Note>>,
}

impl WakeBus {
    /// A bus without Redis: other instances are woken through PostgreSQL only.
    pub fn local() -> WakeBus {
        WakeBus {
            wake: Arc::new(Notify::new()),
            finished: broadcast::channel(1024).0,
            redis: Arc::new(RedisStatus::default()),
            tx: None,
        }
    }

    /// The bus, with the Redis carrier when a URL is given and the feature is built in
    /// (its tasks run on the current Tokio runtime until `shutdown` turns true).
    pub fn start(redis_url: Option<String>, shutdown: watch::Receiver<bool>) -> WakeBus {
        let mut bus = WakeBus::local();
        if let Some(url) = redis_url {
            bus.tx = start_redis(&bus, url, shutdown);
        }
        bus
    }

    /// Tells other instances there is new work (after a commit that made some runnable).
    pub fn announce(&self) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(Note::Wake);
        }
    }

    /// Tells other instances through Redis that an execution has ended; false when
    /// Redis is not up to tell them by.
    pub fn done(&self, id: Uuid) -> bool {
        match &self.tx {
            Some(tx) if self.redis() == RedisState::Ok => tx.send(Note::Done(id)).is_ok(),
            _ => false,
        }
    }

    /// The state of the Redis carrier.
    pub fn redis(&self) -> RedisState {
        self.redis.get()
    }

    /// Hands ended executions announced by another instance (ids separated by commas)
    /// to this one's waiters.
    pub fn forward_done(&self, payload: &str) {
        forward_done(&self.finished, payload);
    }
}

fn forward_done(finished: &broadcast::Sender<Uuid>, payload: &str) {
    for id in payload.split(',') {
        if let Ok(id) = Uuid::parse_str(id.trim()) {
            let _ = finished.send(id);
        }
    }
}

#[cfg(not(feature = "redis"))]
fn start_redis(
    _: &WakeBus,
    _: String,
    _: watch::Receiver<bool>,
) -> Option<mpsc::UnboundedSender<Note>> {
    tracing::warn!(
        "REDIS_URL is set but this build has no `redis` feature; waking through PostgreSQL only"
    );
    None
}

#[cfg(feature = "redis")]
fn start_redis(
    bus: &WakeBus,
    url: String,
    shutdown: watch::Receiver<bool>,
) -> Option<mpsc::UnboundedSender<Note>> {
    let status = bus.redis.clone();
    let client = match redis::Client::open(url.as_str()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("invalid REDIS_URL: {e}; waking through PostgreSQL only");
            status.set(RedisState::Down);
            return None;
        }
    };
    status.set(RedisState::Connecting);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(subscriber(
        client.clone(),
        bus.wake.clone(),
        bus.finished.clone(),
        status.clone(),
        shutdown.clone(),
    ));
    tokio::spawn(publisher(client, rx, status, shutdown));
    Some(tx)
}

#[cfg(feature = "redis")]
fn went_down(status: &RedisStatus, publisher: bool, e: &dyn std::fmt::Display) {
    if status.saw(publisher, RedisState::Down) {
        tracing::warn!("Redis is unreachable ({e}); waking through PostgreSQL until it is back");
    }
}

#[cfg(feature = "redis")]
fn came_up(status: &RedisStatus, publisher: bool) {
    if status.saw(publisher, RedisState::Ok) && status.get() == RedisState::Ok {
        tracing::info!("Redis connected: instances wake each other through it");
    }
}

/// Listens on the channel; every message wakes this instance's scheduler.
#[cfg(feature = "redis")]
async fn subscriber(
    client: redis::Client,
    wake: Arc<Notify>,
    finished: broadcast::Sender<Uuid>,
    status: Arc<RedisStatus>,
    shutdown: watch::Receiver<bool>,
) {
    use futures::StreamExt;
    while !*shutdown.borrow() {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&[CHANNEL, DONE_CHANNEL]).await {
                Ok(()) => {
                    came_up(&status, false);
                    // Wake once: anything announced while we were away is picked up now.
                    wake.notify_one();
                    let mut stream = pubsub.on_message();
                    while let Some(msg) = stream.next().await {
                        if msg.get_channel_name() == DONE_CHANNEL {
                            if let Ok(payload) = msg.get_payload::<String>() {
                                forward_done(&finished, &payload);
                            }
                        } else {
                            wake.notify_one();
                        }
                    }
                    went_down(&status, false, &"the subscription ended");
                }
                Err(e) => went_down(&status, false, &e),
            },
            Err(e) => went_down(&status, false, &e),
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
    loop {
        // While its last attempt failed, the publisher tries again every second even with
        // nothing to send, so its state follows Redis rather than the last failure.
        let next = if status.publisher.load(Ordering::Relaxed) == code(RedisState::Down) {
            match tokio::time::timeout(std::time::Duration::from_secs(1), rx.recv()).await {
                Ok(n) => n.map(Some),
                Err(_) => Some(None),
            }
        } else {
            rx.recv().await.map(Some)
        };
        let Some(next) = next else {
            return;
        };
        let Some(first) = next else {
            if *shutdown.borrow() {
                return;
            }
            match client.get_multiplexed_async_connection().await {
                Ok(mut c) => {
                    let pong: redis::RedisResult<String> =
                        redis::cmd("PING").query_async(&mut c).await;
                    if pong.is_ok() {
                        conn = Some(c);
                        came_up(&status, true);
                    }
                }
                Err(e) => went_down(&status, true, &e),
            }
            continue;
        };
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
                    went_down(&status, true, &e);
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
            match sent {
                Ok(()) => came_up(&status, true),
                Err(e) => {
                    went_down(&status, true, &e);
                    conn = None;
                }
            }
        }
    }
}
