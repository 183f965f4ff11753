//! Durable execution (README, How it works): the [`Runtime`] that owns the engine, the compiled
//! script cache, the loaded bots and the database pool; the journal-backed host
//! (`host`), one run of an execution and its commit (`runner`), and the scheduler that
//! claims runnable executions with leases and wakes due timers (`scheduler`).

#![warn(missing_docs)]

pub mod claims;
pub mod group;
pub mod host;
pub mod journal;
pub mod ops;
pub mod publishing;
pub mod runner;
pub mod scheduler;
pub mod schedules;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use diesel::PgConnection;
use rhai::Engine;
use uuid::Uuid;

use crate::basic::{engine, CompiledScript, ScriptCache};
use crate::bots::Package;
use crate::db::{self, PgPool};
use crate::error::{Error, Result};
use crate::wakeup::WakeBus;

/// Tunables of the runtime.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// How long a claim lasts without renewal; another instance takes over after it.
    pub lease_secs: f64,
    /// How often the scheduler looks for due timers and lapsed leases.
    pub poll_interval: std::time::Duration,
    /// Runs in progress at once on this instance.
    pub max_concurrent_runs: usize,
    /// The largest journal value (bytes).
    pub max_journal_value_bytes: usize,
    /// The most rows a `FIND` may return; more is an error naming the limit.
    pub find_max_rows: usize,
    /// How deep children may nest (`BOT` and `PARALLEL` under one another).
    pub max_depth: usize,
    /// The most executions one workflow tree may have (its root and every descendant).
    pub max_tree: usize,
    /// How long a chain of `ON EVENT` handlers publishing events may grow.
    pub max_event_chain: usize,
    /// The most events one run may publish.
    pub max_publish_per_run: usize,
    /// The most messages one execution may `TALK` (over all its runs).
    pub max_talks: usize,
    /// The most bytes one execution may `TALK` (over all its runs).
    pub max_output_bytes: usize,
    /// The limits of each run (operations, time, sizes).
    pub limits: engine::Limits,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            lease_secs: 10.0,
            poll_interval: std::time::Duration::from_millis(250),
            max_concurrent_runs: 32,
            max_journal_value_bytes: 1 << 20,
            find_max_rows: 1000,
            max_depth: 32,
            max_tree: 10_000,
            max_event_chain: 8,
            max_publish_per_run: 1000,
            max_talks: 10_000,
            max_output_bytes: 16 << 20,
            limits: engine::Limits::default(),
        }
    }
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    /// Runs started.
    pub runs: AtomicU64,
    /// Executions completed.
    pub completed: AtomicU64,
    /// Executions failed.
    pub failed: AtomicU64,
    /// Runs that suspended.
    pub suspended: AtomicU64,
    /// Runs abandoned (retried or given up).
    pub aborted: AtomicU64,
    /// Runs whose outcome the group commit wrote.
    pub group_committed: AtomicU64,
    /// Optimistic group-committed runs given up for a transaction of their own (their
    /// script used the database after all).
    pub optimistic_given_up: AtomicU64,
    /// Wake-up latencies (seconds) since the console's sampler last took them.
    pub wake: Latencies,
}

/// Latencies recorded since they were last taken: at most [`Latencies::KEEP`] per
/// interval (beyond that, each new one takes the place of an older one in turn, which
/// keeps the median and the tail of a steady load).
#[derive(Default)]
pub struct Latencies {
    samples: Mutex<Vec<f64>>,
    seen: AtomicU64,
}

impl Latencies {
    /// The most samples kept between two takes.
    pub const KEEP: usize = 8192;

    /// Records one latency in seconds.
    pub fn record(&self, secs: f64) {
        let n = self.seen.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut s) = self.samples.lock() {
            if s.len() < Self::KEEP {
                s.push(secs);
            } else {
                let i = (n as usize) % Self::KEEP;
                s[i] = secs;
            }
        }
    }

    /// The samples since the last take, and how many were recorded in all.
    pub fn take(&self) -> (Vec<f64>, u64) {
        let samples = self
            .samples
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default();
        (samples, self.seen.swap(0, Ordering::Relaxed))
    }
}

impl Metrics {
    /// Adds one to a counter.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The durable runtime of one server instance.
pub struct Runtime {
    /// The database.
    pub pool: PgPool,
    /// The Rhai engine with every host function registered.
    pub engine: Engine,
    /// Compiled scripts by hash.
    pub cache: ScriptCache,
    /// The runtime's tunables.
    pub config: RuntimeConfig,
    /// This instance's name in leases (`owner`).
    pub owner: String,
    bots: RwLock<BTreeMap<String, Package>>,
    /// Script versions known to be stored in the database.
    stored: Mutex<HashSet<String>>,
    /// Executions this instance is running now (their leases are renewed).
    pub running: Mutex<HashSet<Uuid>>,
    /// Wakes this instance's scheduler and the other instances; announces ends.
    pub bus: WakeBus,
    /// Run slots: runs at work at once, shared by the scheduler, requests that run inline
    /// and what a publish claims. A run awaiting the group commit has given its slot back.
    pub permits: Arc<tokio::sync::Semaphore>,
    /// Results of executions that completed here lately (a completed execution never
    /// changes again), so that awaiting a result usually needs no query.
    recent: Mutex<(
        std::collections::HashMap<Uuid, serde_json::Value>,
        std::collections::VecDeque<Uuid>,
    )>,
    /// The paused bots as last read, and when (read again after a second).
    paused: Mutex<(Option<std::time::Instant>, HashSet<String>)>,
    /// Conversations waiting in a `HEAR` as this instance's last message left them.
    conversations: ops::Remembered,
    /// Writes the first runs of new executions in shared transactions.
    pub group: group::GroupCommit,
    /// Writes the API's publishes in shared transactions.
    pub publisher: publishing::PublishCommit,
    /// Tells the other instances through PostgreSQL after commits.
    notifier: Notifier,
    /// A weak handle on this runtime, so that a run can start others on new threads.
    me: std::sync::Weak<Runtime>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
}

/// Tells the other instances through PostgreSQL, from a thread of its own, what this
/// one did after its commits: ends of executions (`NOTIFY botserver_done`, as many ids in
/// one notification as have come in meanwhile, up to 200 within PostgreSQL's 8,000-byte
/// payload) and new work left unclaimed by an API publish (one `NOTIFY botserver_wake`
/// for all that came in meanwhile). A transaction that notifies takes a lock global to
/// the database at its commit and holds it through the commit's WAL flush: one NOTIFY
/// per end, or one in every publish's transaction, serialised unrelated workflows behind
/// each other's flushes (the bench's wake-up storm spent its time in `Lock:object` on
/// `pg_notify`). A notification lost in a crash after the commit delays a remote result
/// long poll by its periodic look (200 ms) and a remote claim by the poll interval, no
/// more: PostgreSQL's rows are what counts.
struct Notifier {
    tx: Mutex<std::sync::mpsc::Sender<Note>>,
}

enum Note {
    Done(Uuid),
    Wake,
}

impl Notifier {
    fn start(pool: PgPool) -> Notifier {
        let (tx, rx) = std::sync::mpsc::channel::<Note>();
        std::thread::spawn(move || {
            use diesel::RunQueryDsl;
            while let Ok(first) = rx.recv() {
                let (mut ids, mut wake) = (Vec::new(), false);
                let mut note = Some(first);
                while let Some(n) = note.take() {
                    match n {
                        Note::Done(id) => ids.push(id.to_string()),
                        Note::Wake => wake = true,
                    }
                    if ids.len() < 200 {
                        note = rx.try_recv().ok();
                    }
                }
                let Ok(mut conn) = pool.get() else {
                    continue;
                };
                if !ids.is_empty() {
                    let _ = db::sql::sql("SELECT pg_notify('botserver_done', $1)")
                        .bind::<diesel::sql_types::Text, _>(ids.join(","))
                        .execute(&mut *conn);
                }
                if wake {
                    let _ = db::events::notify_wake(&mut conn, "");
                }
            }
        });
        Notifier { tx: Mutex::new(tx) }
    }

    fn send(&self, note: Note) {
        if let Ok(tx) = self.tx.lock() {
            let _ = tx.send(note);
        }
    }
}

/// A new unguessable token (approval decisions).
pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets without leaking where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Runtime {
    /// The runtime of an instance named `owner` in leases, over `pool`, waking through
    /// `bus`.
    pub fn new(pool: PgPool, config: RuntimeConfig, owner: String, bus: WakeBus) -> Arc<Runtime> {
        Arc::new_cyclic(|me| Runtime {
            pool: pool.clone(),
            engine: engine::new_engine(&config.limits),
            cache: ScriptCache::default(),
            owner,
            bots: RwLock::new(BTreeMap::new()),
            stored: Mutex::new(HashSet::new()),
            running: Mutex::new(HashSet::new()),
            bus,
            permits: Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_runs)),
            me: me.clone(),
            recent: Mutex::new(Default::default()),
            paused: Mutex::new((None, HashSet::new())),
            conversations: ops::Remembered::default(),
            group: group::GroupCommit::start(pool.clone()),
            publisher: publishing::PublishCommit::start(pool.clone()),
            notifier: Notifier::start(pool.clone()),
            metrics: Metrics::default(),
            config,
        })
    }

    /// Remembers the result of an execution that completed on this instance.
    pub fn remember_completed(&self, id: Uuid, result: serde_json::Value) {
        const KEEP: usize = 20_000;
        if let Ok(mut r) = self.recent.lock() {
            let (map, order) = &mut *r;
            if map.insert(id, result).is_none() {
                order.push_back(id);
            }
            while order.len() > KEEP {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
    }

    /// The result of an execution that completed on this instance lately, if any.
    pub fn recent_result(&self, id: Uuid) -> Option<serde_json::Value> {
        self.recent.lock().ok().and_then(|r| r.0.get(&id).cloned())
    }

    /// Tells other instances that there is new work (no-op without Redis).
    pub fn announce(&self) {
        self.bus.announce();
    }

    /// Claims for this instance what a publish wakes, while it has free run slots; none
    /// outside the async runtime, where nothing could start those runs.
    pub fn claimer(&self) -> Option<claims::Claimer<'_>> {
        tokio::runtime::Handle::try_current()
            .ok()
            .map(|_| claims::Claimer {
                owner: &self.owner,
                lease_secs: self.config.lease_secs,
                permits: &self.permits,
            })
    }

    /// Tells the other instances that `id`, which ran here on behalf of an event or a
    /// decision, has ended (see `wakeup::DONE_CHANNEL`): through Redis when it is up,
    /// else with a NOTIFY, several ends in one (see [`Notifier`]).
    pub fn announce_done(&self, id: Uuid) {
        if self.bus.done(id) {
            return;
        }
        self.notifier.send(Note::Done(id));
    }

    /// Wakes the other instances' schedulers through PostgreSQL after a commit that left
    /// work for any instance (with Redis up, [`Runtime::announce`] has done so already;
    /// the NOTIFY wakes nobody twice, the listener ignores it then).
    pub fn wake_elsewhere(&self) {
        self.notifier.send(Note::Wake);
    }

    /// A connection from the pool.
    pub fn conn(&self) -> Result<db::PgConn> {
        Ok(self.pool.get()?)
    }

    /// Loads packages: stores their scripts, registers their `ON EVENT` handlers and
    /// their `SET SCHEDULE`s (a script without the line any more loses its schedule).
    /// Scripts that do not compile are reported and skipped, the rest load.
    pub fn load_packages(&self, packages: Vec<Package>) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        let mut problems = Vec::new();
        for pkg in &packages {
            db::scripts::upsert_bot(&mut conn, &pkg.name)?;
            let mut handlers = Vec::new();
            let (mut scheduled, mut unreadable) = (Vec::new(), Vec::new());
            for script in pkg.scripts.values() {
                match self.store_script(&mut conn, &pkg.name, &script.name, &script.source) {
                    Ok((hash, compiled)) => {
                        if let Some((cron, _)) = &compiled.schedule {
                            scheduled.push((script.name.clone(), cron.clone()));
                        }
                        // TABLE definitions become the bot's tables (new ones, new columns).
                        problems.extend(crate::data::schema::apply_definitions(
                            &mut conn,
                            &pkg.name,
                            &script.path.display().to_string(),
                            &compiled.tables,
                        ));
                        for (event, entry) in compiled.handlers() {
                            handlers.push((
                                script.name.clone(),
                                entry as i32,
                                event.to_string(),
                                hash.clone(),
                            ));
                        }
                    }
                    Err(Error::BadRequest(msg)) => {
                        // A script that no longer compiles keeps its schedule until fixed.
                        unreadable.push(script.name.clone());
                        problems.push(format!("{}: {msg}", script.path.display()))
                    }
                    Err(e) => return Err(e),
                }
            }
            db::events::set_handlers(&mut conn, &pkg.name, &handlers)?;
            schedules::store_for_bot(&mut conn, &pkg.name, &scheduled, &unreadable)?;
        }
        if let Ok(mut bots) = self.bots.write() {
            for pkg in packages {
                bots.insert(pkg.name.clone(), pkg);
            }
        }
        Ok(problems)
    }

    /// Where a bot's HTTP requests may go: the server's allow-list (`BOTSERVER_HTTP_ALLOW`)
    /// and the bot's own `http-allow` row of `config.csv`, together.
    pub fn http_policy(&self, bot: &str) -> std::result::Result<crate::http::Policy, String> {
        let server = crate::http::policy_from_env()?;
        let own = self.bots.read().ok().and_then(|b| {
            b.get(bot)
                .and_then(|p| p.config_value("http-allow").map(str::to_string))
        });
        Ok(match own {
            Some(list) => server.with(
                &crate::http::Policy::parse(&list)
                    .map_err(|e| format!("{bot}'s http-allow setting: {e}"))?,
            ),
            None => server,
        })
    }

    /// A bot's `config.csv` value for `key` (names compared without case), if any.
    pub fn config_value(&self, bot: &str, key: &str) -> Option<String> {
        self.bots.read().ok().and_then(|b| {
            b.get(bot)
                .and_then(|p| p.config_value(key).map(str::to_string))
        })
    }

    /// True when the bot is loaded.
    pub fn has_bot(&self, name: &str) -> bool {
        self.bots
            .read()
            .map(|b| b.contains_key(name))
            .unwrap_or(false)
    }

    /// What `check` says about a script run here: its errors, or its warnings, with one
    /// for each delegation to a bot that is not loaded.
    pub fn check(&self, source: &str) -> Vec<crate::basic::diagnostics::Diagnostic> {
        crate::basic::check_source(&self.engine, source, &self.config.limits, |bot| {
            (!self.has_bot(bot))
                .then(|| format!("unknown bot '{bot}': no {bot}.gbai package is loaded"))
        })
    }

    /// A loaded bot's package (its scripts as loaded, its settings).
    pub fn package(&self, name: &str) -> Option<Package> {
        self.bots.read().ok().and_then(|b| b.get(name).cloned())
    }

    /// Loaded bots with their script names.
    pub fn bot_list(&self) -> Vec<(String, Vec<String>)> {
        self.bots
            .read()
            .map(|b| {
                b.values()
                    .map(|p| (p.name.clone(), p.scripts.keys().cloned().collect()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Compiles a source (cached by hash) and stores it in the database once.
    fn store_script(
        &self,
        conn: &mut PgConnection,
        bot: &str,
        name: &str,
        source: &str,
    ) -> Result<(String, Arc<CompiledScript>)> {
        let compiled = self
            .cache
            .get_or_compile(&self.engine, source, &self.config.limits)
            .map_err(|d| Error::BadRequest(d.render(&format!("{bot}/{name}.bas"), source)))?;
        let hash = compiled.hash.clone();
        let known = self
            .stored
            .lock()
            .map(|s| s.contains(&hash))
            .unwrap_or(false);
        if !known {
            db::scripts::store(conn, &hash, bot, name, source)?;
            if let Ok(mut s) = self.stored.lock() {
                s.insert(hash.clone());
            }
        }
        Ok((hash, compiled))
    }

    /// Calls `f` with a loaded package; `unknown` starts the error for a bot not loaded.
    fn with_package<T>(
        &self,
        bot: &str,
        unknown: &str,
        f: impl FnOnce(&Package) -> Result<T>,
    ) -> Result<T> {
        let bots = self
            .bots
            .read()
            .map_err(|_| Error::Internal("bot registry poisoned".into()))?;
        let pkg = bots
            .get(bot)
            .ok_or_else(|| Error::NotFound(format!("{unknown} '{bot}'")))?;
        f(pkg)
    }

    /// The newest version of a bot's script: read from its file now, so an edited
    /// `.bas` is picked up by every new execution (running ones stay on their version).
    pub fn current_script(
        &self,
        conn: &mut PgConnection,
        bot: &str,
        name: &str,
    ) -> Result<(String, String)> {
        let file = self.with_package(bot, "unknown bot", |pkg| {
            pkg.scripts
                .get(&name.to_lowercase())
                .cloned()
                .ok_or_else(|| {
                    let mut have: Vec<&str> =
                        pkg.scripts.values().map(|s| s.name.as_str()).collect();
                    have.sort_unstable();
                    Error::NotFound(format!(
                        "bot '{bot}' has no script '{name}' (its scripts: {})",
                        have.join(", ")
                    ))
                })
        })?;
        let source = std::fs::read_to_string(&file.path).unwrap_or(file.source);
        let (hash, _) = self.store_script(conn, bot, &file.name, &source)?;
        Ok((file.name, hash))
    }

    /// The script a delegated task runs in `bot` (docs/language.md): name and hash.
    pub fn task_script(
        &self,
        conn: &mut PgConnection,
        bot: &str,
        task: &str,
    ) -> Result<(String, String)> {
        let name = self.with_package(bot, "BOT: unknown bot", |pkg| {
            pkg.task_handler(task).map(|s| s.name.clone()).ok_or_else(|| {
                Error::NotFound(format!(
                    "BOT: bot '{bot}' has no task handler for '{task}' (and no task.bas or start.bas)"
                ))
            })
        })?;
        self.current_script(conn, bot, &name)
    }

    /// The compiled form of a stored script version.
    pub fn compiled(&self, conn: &mut PgConnection, hash: &str) -> Result<Arc<CompiledScript>> {
        if let Some(c) = self.cache.get(hash) {
            return Ok(c);
        }
        let source = db::scripts::source(conn, hash)?
            .ok_or_else(|| Error::Internal(format!("script version {hash} is not stored")))?;
        self.cache
            .get_or_compile(&self.engine, &source, &self.config.limits)
            .map_err(|d| Error::Internal(format!("stored script {hash} no longer compiles: {d}")))
    }
}
