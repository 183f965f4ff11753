//! The journal of an execution (README, How it works): what its journaled keywords did, under keys
//! that the same script with the same journal always derives again, so that a replay
//! answers from here instead of acting twice.
//!
//! This file is the only place that knows how keys are spelled:
//!
//! | key | entry |
//! |---|---|
//! | `scope/op#n` (`op#n` outside steps) | the `n`-th `op` (`talk`, `bot`, …) in that scope |
//! | `step!begin`, `step!end` | a step began (only journaled if it waits or fails) / ended with its result |
//! | `step!fail#a`, `step!backoff#a` | attempt `a` failed ([`Failure`]) / the timer before the next one ([`Timer`]) |
//! | `key!child` | the id of the child a `BOT` started |
//! | `key!req#n` | the `n`-th approval request of a `HUMAN APPROVAL` (escalations add more) |
//! | `key!started`, `key!branch:label` | the branches a `PARALLEL` started / a branch's result |
//! | `key!cursor`, `key!cursor!escalation` | where a `WAIT FOR EVENT` began reading / its escalation |
//! | `!origin` | the script version the execution started on ([`Origin`]), once a retry moved it to another |
//! | `!pins` | the script versions its `BOT` children get after a pinned retry ([`Pins`]) |
//!
//! The scope is the current step: its label (`3`), its label and its count when the step
//! runs again in a loop (`3#2`), and the attempt after a failure (`3@2`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::basic::context::{HostError, HostResult};

/// The marker a child's failure leaves in its parent's journal (`{"__failed": message}`).
pub const FAILED: &str = "__failed";

/// The journal value that records a child's failure.
pub fn failure_marker(message: &str) -> Json {
    serde_json::json!({ FAILED: message })
}

/// The message of a recorded child failure, if `value` is one.
pub fn failure_of(value: &Json) -> Option<String> {
    value
        .get(FAILED)
        .map(|m| m.as_str().unwrap_or("the child failed").to_string())
}

/// A journaled operation: the `op` of `scope/op#n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `TALK`.
    Talk,
    /// `HEAR`.
    Hear,
    /// `WAIT`.
    Sleep,
    /// `NOW()`, `TODAY()`.
    Now,
    /// `RANDOM()`.
    Random,
    /// `UUID()`.
    Uuid,
    /// `GET BOT MEMORY`.
    MemoryGet,
    /// `SET BOT MEMORY`.
    MemorySet,
    /// `SET CONTEXT`.
    Context,
    /// `BOT SHARE MEMORY`.
    Share,
    /// `BOT SYNC MEMORY`.
    Sync,
    /// `ORCHESTRATE WORKFLOW`.
    Workflow,
    /// `BOT` delegation.
    Bot,
    /// `HUMAN APPROVAL`.
    Approval,
    /// `PARALLEL`.
    Parallel,
    /// `PUBLISH EVENT`.
    Publish,
    /// `WAIT FOR EVENT`.
    Event,
    /// `GET`, `POST`, … (an HTTP request).
    Http,
    /// `GET CONFIG`.
    Config,
    /// `FIND`, `SAVE`, `INSERT`, `UPDATE`, `DELETE`, `MERGE`.
    Data,
    /// `SEND MAIL`.
    Mail,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Talk => "talk",
            Op::Hear => "hear",
            Op::Sleep => "sleep",
            Op::Now => "now",
            Op::Random => "random",
            Op::Uuid => "uuid",
            Op::MemoryGet => "memget",
            Op::MemorySet => "memset",
            Op::Context => "context",
            Op::Share => "share",
            Op::Sync => "sync",
            Op::Workflow => "workflow",
            Op::Bot => "bot",
            Op::Approval => "approval",
            Op::Parallel => "parallel",
            Op::Publish => "publish",
            Op::Event => "event",
            Op::Http => "http",
            Op::Config => "config",
            Op::Data => "data",
            Op::Mail => "mail",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A journal key, with the operation it belongs to (`None` for a step's own entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    text: String,
    op: Option<Op>,
}

impl Key {
    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn derived(&self, suffix: std::fmt::Arguments) -> Key {
        Key {
            text: format!("{}{suffix}", self.text),
            op: self.op,
        }
    }

    /// Where a `BOT` records the id of the child it started.
    pub fn child(&self) -> Key {
        self.derived(format_args!("!child"))
    }

    /// Where a `PARALLEL` records the branches it started.
    pub fn started(&self) -> Key {
        self.derived(format_args!("!started"))
    }

    /// Where a branch of a `PARALLEL` leaves its result (the branch's `parent_key`).
    pub fn branch(&self, label: &str) -> Key {
        self.derived(format_args!("!branch:{label}"))
    }

    /// Where a `WAIT FOR EVENT` records its cursor and deadline.
    pub fn cursor(&self) -> Key {
        self.derived(format_args!("!cursor"))
    }

    /// The approval a `WAIT FOR EVENT … ESCALATE TO` asks for when no event came.
    pub fn escalation(&self) -> Key {
        self.derived(format_args!("!cursor!escalation"))
    }

    /// The `n`-th request (1-based) of the approval under this key.
    pub fn request(&self, n: usize) -> Key {
        self.derived(format_args!("!req#{n}"))
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A step as the journal sees it: its key and its current attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepKey {
    key: String,
    attempt: u32,
}

impl StepKey {
    /// The step's key (`3`, `3#2`), as its row in `workflow_steps` has it.
    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// The attempt in progress (1 for the first try).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Moves on to the next attempt (after a failure with tries left).
    pub fn next_attempt(&mut self) {
        self.attempt += 1;
    }

    fn scope(&self) -> String {
        if self.attempt > 1 {
            format!("{}@{}", self.key, self.attempt)
        } else {
            self.key.clone()
        }
    }

    fn own(&self, suffix: std::fmt::Arguments) -> Key {
        Key {
            text: format!("{}{suffix}", self.key),
            op: None,
        }
    }

    /// When the step began ([`Stamp`]).
    pub fn begin(&self) -> Key {
        self.own(format_args!("!begin"))
    }

    /// The step's result.
    pub fn end(&self) -> Key {
        self.own(format_args!("!end"))
    }

    /// The failure of the attempt in progress ([`Failure`]).
    pub fn failure(&self) -> Key {
        self.own(format_args!("!fail#{}", self.attempt))
    }

    /// The backoff timer after the attempt in progress failed ([`Timer`]).
    pub fn backoff(&self) -> Key {
        self.own(format_args!("!backoff#{}", self.attempt))
    }

    /// The prefixes of every entry an operator's retry forgets for the step `key`: what
    /// ran inside it (any attempt), its failures, its backoffs and its end.
    pub fn retry_prefixes(key: &str) -> Vec<String> {
        ["/", "@", "!fail", "!backoff", "!end"]
            .iter()
            .map(|s| format!("{key}{s}"))
            .collect()
    }
}

/// The keys of an execution's own entries (not of a keyword): those an operator's
/// retry writes.
pub struct OwnKey;

impl OwnKey {
    /// The script version the execution started on ([`Origin`]).
    pub fn origin() -> Key {
        Key {
            text: "!origin".to_string(),
            op: None,
        }
    }

    /// The script versions `BOT` children get ([`Pins`]).
    pub fn pins() -> Key {
        Key {
            text: "!pins".to_string(),
            op: None,
        }
    }
}

/// The script version an execution started on, kept when a retry on the newest
/// version moves it, so that a pinned retry can go back to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// The version's hash.
    pub hash: String,
    /// The entry point in that version.
    pub entry: i32,
}

/// The script version each `(bot, script)` of the children gets: what the children
/// before a pinned retry ran.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pins(pub std::collections::BTreeMap<String, String>);

impl Pins {
    fn name(bot: &str, script: &str) -> String {
        format!("{bot}/{script}")
    }

    /// Pins `bot`'s `script` to the version `hash`.
    pub fn pin(&mut self, bot: &str, script: &str, hash: &str) {
        self.0.insert(Pins::name(bot, script), hash.to_string());
    }

    /// The version `bot`'s `script` is pinned to, if any.
    pub fn get(&self, bot: &str, script: &str) -> Option<&str> {
        self.0.get(&Pins::name(bot, script)).map(String::as_str)
    }
}

/// RFC 3339 times as the journal has always written them (`…+00:00`).
mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_time(&text).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 time"))
    }

    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&t.to_rfc3339()),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            let text = Option::<String>::deserialize(d)?;
            Ok(text.as_deref().and_then(super::super::parse_time))
        }
    }
}

/// Parses an RFC 3339 time into UTC.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// A point in time (`NOW()`, a step's `!begin`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stamp(#[serde(with = "rfc3339")] pub DateTime<Utc>);

/// A timer (`WAIT`, a step's backoff): due at `until`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timer {
    #[serde(with = "rfc3339")]
    /// When it is due.
    pub until: DateTime<Utc>,
}

/// A failed attempt of a step, and whether another one follows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Failure {
    /// The attempt's error.
    pub error: String,
    /// True when another attempt follows.
    pub retry: bool,
}

/// One request of a `HUMAN APPROVAL`: the approval row, who was asked and until when.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Request {
    /// The approval row.
    pub id: Option<Uuid>,
    /// Who was asked.
    pub approver: Option<String>,
    #[serde(with = "rfc3339::option")]
    /// When this request times out.
    pub deadline: Option<DateTime<Utc>>,
}

/// Where a `WAIT FOR EVENT` began: the newest event id of its names then, and its deadline.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Cursor {
    /// The newest event id of the names when the wait began.
    pub cursor: i64,
    #[serde(with = "rfc3339::option")]
    /// When the wait times out.
    pub deadline: Option<DateTime<Utc>>,
}

/// The journal of one execution during one run: the entries it had (and those this run
/// added), and the counters that derive the next keys.
pub struct Journal {
    entries: HashMap<String, Json>,
    new: Vec<(String, Json)>,
    /// Operations with new entries in this run (one bit per [`Op`]).
    touched: u32,
    counters: HashMap<String, u32>,
    step_counts: HashMap<String, u32>,
    max_value_bytes: usize,
}

impl Journal {
    /// The journal as loaded (a JSON object of key → value, as the claim queries return it).
    pub fn from_json(loaded: Json, max_value_bytes: usize) -> Journal {
        let entries = match loaded {
            Json::Object(m) => m.into_iter().collect(),
            _ => HashMap::new(),
        };
        Journal::new(entries, max_value_bytes)
    }

    /// A journal over these entries; values over `max_value_bytes` are refused.
    pub fn new(entries: HashMap<String, Json>, max_value_bytes: usize) -> Journal {
        Journal {
            entries,
            new: Vec::new(),
            touched: 0,
            counters: HashMap::new(),
            step_counts: HashMap::new(),
            max_value_bytes,
        }
    }

    /// The key of the next `op` in `scope` (the step in progress, if any).
    pub fn op_key(&mut self, scope: Option<&StepKey>, op: Op) -> Key {
        let base = match scope {
            Some(step) => format!("{}/{}", step.scope(), op.name()),
            None => op.name().to_string(),
        };
        let n = self.counters.entry(base.clone()).or_insert(0);
        *n += 1;
        Key {
            text: format!("{base}#{n}"),
            op: Some(op),
        }
    }

    /// The key of the step `label` entered now: the label, with its count from the
    /// second time on (a step in a loop).
    pub fn step_key(&mut self, label: &str) -> StepKey {
        let count = self.step_counts.entry(label.to_string()).or_insert(0);
        *count += 1;
        let key = if *count == 1 {
            label.to_string()
        } else {
            format!("{label}#{count}")
        };
        StepKey { key, attempt: 1 }
    }

    /// True when `key` has an entry.
    pub fn has(&self, key: &Key) -> bool {
        self.entries.contains_key(&key.text)
    }

    /// The entry under `key` as it is stored.
    pub fn raw(&self, key: &Key) -> Option<&Json> {
        self.entries.get(&key.text)
    }

    /// The entry under `key` read as a `T`; `None` when missing or of another shape.
    pub fn get<T: DeserializeOwned>(&self, key: &Key) -> Option<T> {
        self.raw(key).and_then(|v| T::deserialize(v).ok())
    }

    /// Records a new entry (a value over the size limit fails the script).
    pub fn record<T: Serialize>(&mut self, key: Key, value: &T) -> HostResult<()> {
        let value = serde_json::to_value(value)
            .map_err(|e| HostError::Fail(format!("cannot journal a value: {e}")))?;
        let size = value.to_string().len();
        if size > self.max_value_bytes {
            return Err(HostError::Fail(format!(
                "a value of {size} bytes is over the journal limit of {} bytes",
                self.max_value_bytes
            )));
        }
        if let Some(op) = key.op {
            self.touched |= op.bit();
        }
        self.entries.insert(key.text.clone(), value.clone());
        self.new.push((key.text, value));
        Ok(())
    }

    /// The number of requests recorded so far under an approval's key.
    pub fn requests(&self, key: &Key) -> usize {
        let mut n = 0;
        while self.has(&key.request(n + 1)) {
            n += 1;
        }
        n
    }

    /// The entries this run added, in order, and which operations they belong to.
    pub fn into_new(self) -> NewEntries {
        NewEntries {
            entries: self.new,
            touched: self.touched,
        }
    }
}

/// The entries one run added to a journal.
#[derive(Debug, Default)]
pub struct NewEntries {
    /// Key and value, in the order they were recorded.
    pub entries: Vec<(String, Json)>,
    touched: u32,
}

impl NewEntries {
    /// True when this run recorded something for `op` (its result or a derived entry).
    pub fn recorded(&self, op: Op) -> bool {
        self.touched & op.bit() != 0
    }
}

/// Looks up the next `op`'s entry, or acts and records what the act returned: the one
/// shape of every journaled keyword that needs nothing but its own result on replay.
pub trait Journaled: Sized {
    /// The journal of the run.
    fn journal(&mut self) -> &mut Journal;
    /// The key of the next `op` in the current scope.
    fn next_key(&mut self, op: Op) -> Key;

    /// As [`Journaled::journaled`], with the entry's key given to `act` (an HTTP request
    /// derives its `Idempotency-Key` from it, the same on every repeat).
    fn journaled_keyed<T: Serialize + DeserializeOwned>(
        &mut self,
        op: Op,
        act: impl FnOnce(&mut Self, &Key) -> HostResult<T>,
    ) -> HostResult<T> {
        let key = self.next_key(op);
        if let Some(v) = self.journal().raw(&key) {
            return T::deserialize(v).map_err(|e| {
                HostError::Fail(format!("the journal entry {key} cannot be read: {e}"))
            });
        }
        let value = act(self, &key)?;
        self.journal().record(key, &value)?;
        Ok(value)
    }

    /// Returns the recorded value of the next `op`, else runs `act` and records its value.
    fn journaled<T: Serialize + DeserializeOwned>(
        &mut self,
        op: Op,
        act: impl FnOnce(&mut Self) -> HostResult<T>,
    ) -> HostResult<T> {
        let key = self.next_key(op);
        if let Some(v) = self.journal().raw(&key) {
            return T::deserialize(v).map_err(|e| {
                HostError::Fail(format!("the journal entry {key} cannot be read: {e}"))
            });
        }
        let value = act(self)?;
        self.journal().record(key, &value)?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> Journal {
        Journal::new(HashMap::new(), 1 << 20)
    }

    #[test]
    fn op_keys_count_per_scope() {
        let mut j = journal();
        assert_eq!(j.op_key(None, Op::Talk).as_str(), "talk#1");
        assert_eq!(j.op_key(None, Op::Talk).as_str(), "talk#2");
        assert_eq!(j.op_key(None, Op::MemoryGet).as_str(), "memget#1");
        let mut step = j.step_key("3");
        assert_eq!(j.op_key(Some(&step), Op::Bot).as_str(), "3/bot#1");
        step.next_attempt();
        assert_eq!(j.op_key(Some(&step), Op::Bot).as_str(), "3@2/bot#1");
        let again = j.step_key("3");
        assert_eq!(again.as_str(), "3#2");
        assert_eq!(j.op_key(Some(&again), Op::Bot).as_str(), "3#2/bot#1");
    }

    #[test]
    fn derived_keys() {
        let mut j = journal();
        let mut step = j.step_key("s");
        assert_eq!(step.begin().as_str(), "s!begin");
        assert_eq!(step.end().as_str(), "s!end");
        assert_eq!(step.failure().as_str(), "s!fail#1");
        step.next_attempt();
        assert_eq!(step.backoff().as_str(), "s!backoff#2");
        let k = j.op_key(Some(&step), Op::Approval);
        assert_eq!(k.request(2).as_str(), "s@2/approval#1!req#2");
        let p = j.op_key(None, Op::Parallel);
        assert_eq!(p.started().as_str(), "parallel#1!started");
        assert_eq!(p.branch("a").as_str(), "parallel#1!branch:a");
        let e = j.op_key(None, Op::Event);
        assert_eq!(e.cursor().as_str(), "event#1!cursor");
        assert_eq!(
            e.escalation().request(1).as_str(),
            "event#1!cursor!escalation!req#1"
        );
        assert_eq!(j.op_key(None, Op::Bot).child().as_str(), "bot#1!child");
        assert_eq!(
            StepKey::retry_prefixes("2"),
            ["2/", "2@", "2!fail", "2!backoff", "2!end"]
        );
    }

    #[test]
    fn own_keys_and_pins() {
        assert_eq!(OwnKey::origin().as_str(), "!origin");
        assert_eq!(OwnKey::pins().as_str(), "!pins");
        let mut p = Pins::default();
        p.pin("helper", "task", "abc");
        assert_eq!(p.get("helper", "task"), Some("abc"));
        assert_eq!(p.get("helper", "start"), None);
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({ "helper/task": "abc" })
        );
    }

    #[test]
    fn entries_keep_their_format() {
        let t = parse_time("2026-01-02T03:04:05+00:00").unwrap();
        assert_eq!(
            serde_json::to_value(Timer { until: t }).unwrap(),
            serde_json::json!({ "until": "2026-01-02T03:04:05+00:00" })
        );
        assert_eq!(
            serde_json::to_value(Stamp(t)).unwrap(),
            serde_json::json!("2026-01-02T03:04:05+00:00")
        );
        let c: Cursor =
            serde_json::from_value(serde_json::json!({ "cursor": 7, "deadline": null })).unwrap();
        assert_eq!(
            c,
            Cursor {
                cursor: 7,
                deadline: None
            }
        );
        assert_eq!(
            serde_json::to_value(Request {
                id: None,
                approver: Some("a".into()),
                deadline: None
            })
            .unwrap(),
            serde_json::json!({ "id": null, "approver": "a", "deadline": null })
        );
    }

    #[test]
    fn recording_tracks_operations_and_size() {
        let mut j = Journal::new(HashMap::new(), 10);
        let k = j.op_key(None, Op::Publish);
        j.record(k.clone(), &true).unwrap();
        assert!(j.has(&k));
        let big = j.op_key(None, Op::Talk);
        assert!(j.record(big, &"a long text over ten bytes").is_err());
        let new = j.into_new();
        assert!(new.recorded(Op::Publish));
        assert!(!new.recorded(Op::Talk));
        assert_eq!(
            new.entries,
            vec![("publish#1".to_string(), Json::Bool(true))]
        );
    }
}
