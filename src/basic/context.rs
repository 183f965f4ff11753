//! The boundary between keywords and the world.
//!
//! Keywords never touch stdout, a database or a clock directly: they call a [`Host`].
//! `botserver run` uses [`TerminalHost`] (everything in memory, TALK to stdout, HEAR
//! from stdin); the durable runtime implements the same trait over the journal, so the
//! language layer runs unchanged in both.
//!
//! The host of the run in progress is installed in a thread-local for the duration of
//! one Rhai evaluation ([`with_host`]): Rhai host functions are registered once per
//! engine, while the host changes with every run.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

/// Why a host call did not produce a value.
#[derive(Debug, Clone, PartialEq)]
pub enum HostError {
    /// The execution must wait (message, timer, child, approval, event). The host has
    /// recorded what for; the run ends and is replayed when the wait is over.
    Suspend,
    /// The operation failed; the message is shown with the `.bas` position.
    Fail(String),
}

pub type HostResult<T> = Result<T, HostError>;

fn needs_server<T>(what: &str) -> HostResult<T> {
    Err(HostError::Fail(format!(
        "{what} needs the server (run this script with `botserver serve`)"
    )))
}

/// A request for human approval (`HUMAN APPROVAL FROM …`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRequest {
    pub who: String,
    pub timeout_secs: Option<f64>,
    pub escalate: Vec<String>,
    pub message: Option<String>,
}

/// A `WAIT FOR EVENT`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventWait {
    pub names: Vec<String>,
    /// A `WHERE` filter decides which event ends the wait.
    pub filtered: bool,
    pub timeout_secs: Option<f64>,
    pub escalate: Option<String>,
}

/// An HTTP request of a script (`x = GET url`, `POST url, body`, …), with the headers
/// set by `SET HEADER` so far in this run.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCall {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Json>,
}

/// A data keyword of a script (`FIND`, `SAVE`, `INSERT`, `UPDATE`, `DELETE`, `MERGE`)
/// on one of its bot's tables, its arguments already in the shape of the operation.
#[derive(Debug, Clone, PartialEq)]
pub enum DataCall {
    /// `FIND "t", "filter"`: the rows the filter matches.
    Find { table: String, filter: String },
    /// `SAVE "t", id, …`: the row whose `id` is `id`, updated with `row`, or inserted.
    Save {
        table: String,
        id: Json,
        row: serde_json::Map<String, Json>,
    },
    /// `INSERT "t", row`: a new row; the row as stored (with its defaults).
    Insert {
        table: String,
        row: serde_json::Map<String, Json>,
    },
    /// `UPDATE "t", "filter", row`: how many rows changed.
    Update {
        table: String,
        filter: String,
        row: serde_json::Map<String, Json>,
    },
    /// `DELETE "t", "filter"`: how many rows went.
    Delete { table: String, filter: String },
    /// `MERGE "t", rows, "key[,key…]"[, columns]`: each row updated where its keys match,
    /// else inserted.
    Merge {
        table: String,
        rows: Vec<serde_json::Map<String, Json>>,
        keys: Vec<String>,
        only: Option<Vec<String>>,
    },
}

impl DataCall {
    /// The keyword, upper-case.
    pub fn keyword(&self) -> &'static str {
        match self {
            DataCall::Find { .. } => "FIND",
            DataCall::Save { .. } => "SAVE",
            DataCall::Insert { .. } => "INSERT",
            DataCall::Update { .. } => "UPDATE",
            DataCall::Delete { .. } => "DELETE",
            DataCall::Merge { .. } => "MERGE",
        }
    }

    /// The table it works on.
    pub fn table(&self) -> &str {
        match self {
            DataCall::Find { table, .. }
            | DataCall::Save { table, .. }
            | DataCall::Insert { table, .. }
            | DataCall::Update { table, .. }
            | DataCall::Delete { table, .. }
            | DataCall::Merge { table, .. } => table,
        }
    }
}

/// A `SEND MAIL to, subject, body` of a script.
#[derive(Debug, Clone, PartialEq)]
pub struct MailCall {
    /// One address, or several separated by `,` or `;`.
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// A `STEP` as the script enters it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSpec {
    pub label: String,
    pub tries: u32,
    pub backoff_secs: f64,
}

/// Everything a script can do to the world. Operations that only make sense on the
/// server have default implementations that fail with a clear message.
pub trait Host {
    /// `TALK`: a message to the user of the conversation.
    fn talk(&mut self, text: &str) -> HostResult<()>;
    /// `HEAR`: the user's next message (raw text; the keyword validates it).
    fn hear(&mut self) -> HostResult<String>;
    /// `PRINT`: a line in the server log.
    fn print(&mut self, text: &str);
    /// `WAIT` / `DELAY`.
    fn sleep(&mut self, secs: f64) -> HostResult<()>;
    fn now(&mut self) -> HostResult<DateTime<Utc>>;
    /// A uniformly distributed number in [0, 1).
    fn random(&mut self) -> HostResult<f64>;
    fn uuid(&mut self) -> HostResult<String>;
    fn memory_get(&mut self, key: &str) -> HostResult<Json>;
    fn memory_set(&mut self, key: &str, value: Json) -> HostResult<()>;
    fn set_context(&mut self, key: &str, value: Json) -> HostResult<()>;
    /// `RETURN` at the top level: the execution's result.
    fn set_result(&mut self, value: Json);

    /// True when the run is itself a workflow execution.
    fn in_workflow(&self) -> bool {
        false
    }
    fn start_workflow(&mut self, _name: &str, _entry: usize, _vars: Json) -> HostResult<String> {
        needs_server("ORCHESTRATE WORKFLOW")
    }
    fn step_begin(&mut self, _step: &StepSpec) -> HostResult<()> {
        Ok(())
    }
    /// A failed attempt of the current step: `Ok` to try again (after the backoff),
    /// `Err` when the tries are spent.
    fn step_failed(&mut self, error: &str) -> HostResult<()> {
        Err(HostError::Fail(error.to_string()))
    }
    /// The current step ended with this result.
    fn step_end(&mut self, _result: &Json) -> HostResult<()> {
        Ok(())
    }
    fn delegate(&mut self, _bot: &str, _task: &str, _vars: Json) -> HostResult<Json> {
        needs_server("BOT delegation")
    }
    fn approval(&mut self, _req: &ApprovalRequest) -> HostResult<Json> {
        needs_server("HUMAN APPROVAL")
    }
    /// `PARALLEL`: the branches' labels and entry points, and the variables they start with.
    fn parallel(&mut self, _branches: &[(String, usize)], _vars: Json) -> HostResult<Json> {
        needs_server("PARALLEL")
    }
    /// `GET CONFIG name`: the bot's config.csv value (NULL when it has none).
    fn config(&mut self, _key: &str) -> HostResult<Json> {
        needs_server("GET CONFIG")
    }
    /// An HTTP request; the answer's body (JSON as values, anything else as text).
    fn http(&mut self, call: &HttpCall) -> HostResult<Json> {
        Err(HostError::Fail(format!(
            "{} is not available on this server",
            call.method
        )))
    }
    /// A data keyword on one of the bot's tables: rows, a row, a count or a summary.
    fn data(&mut self, call: &DataCall) -> HostResult<Json> {
        needs_server(call.keyword())
    }
    /// `SEND MAIL`: the message is sent; "sent".
    fn send_mail(&mut self, _mail: &MailCall) -> HostResult<Json> {
        needs_server("SEND MAIL")
    }
    fn publish(&mut self, _name: &str, _payload: Json) -> HostResult<()> {
        needs_server("PUBLISH EVENT")
    }
    fn wait_event(
        &mut self,
        _wait: &EventWait,
        _filter: &mut dyn FnMut(&Json) -> Result<bool, String>,
    ) -> HostResult<Json> {
        needs_server("WAIT FOR EVENT")
    }
    fn share_memory(&mut self, _key: &str, _target: Option<&str>) -> HostResult<()> {
        needs_server("BOT SHARE MEMORY")
    }
    fn sync_memory(&mut self, _from: Option<&str>) -> HostResult<i64> {
        needs_server("BOT SYNC MEMORY")
    }
}

thread_local! {
    static CURRENT: RefCell<Option<*mut (dyn Host + 'static)>> = const { RefCell::new(None) };
}

/// Runs `f` with `host` installed as the host of this thread's Rhai calls.
pub fn with_host<R>(host: &mut dyn Host, f: impl FnOnce() -> R) -> R {
    // SAFETY: the pointer is only dereferenced by `call_host` while `f` runs, and this
    // function outlives that: the guard removes it before `host`'s borrow ends, also
    // when `f` unwinds. Lifetimes are erased because a thread-local cannot name them.
    let ptr: *mut (dyn Host + '_) = host;
    let ptr: *mut (dyn Host + 'static) = unsafe { std::mem::transmute(ptr) };
    struct Reset(Option<*mut (dyn Host + 'static)>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let prev = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = prev);
        }
    }
    let prev = CURRENT.with(|c| c.borrow_mut().replace(ptr));
    let _reset = Reset(prev);
    f()
}

/// Calls `f` on the host of the run in progress on this thread. While `f` runs the host
/// is taken out of the thread-local, so a nested call (a `WHERE` filter calling `NOW()`)
/// gets a clear error instead of a second mutable borrow.
pub fn call_host<R>(f: impl FnOnce(&mut dyn Host) -> HostResult<R>) -> HostResult<R> {
    let ptr = CURRENT.with(|c| c.borrow_mut().take());
    let Some(p) = ptr else {
        return Err(HostError::Fail(
            "this keyword cannot be used here (no host for this call)".to_string(),
        ));
    };
    struct PutBack(*mut (dyn Host + 'static));
    impl Drop for PutBack {
        fn drop(&mut self) {
            let p = self.0;
            CURRENT.with(|c| *c.borrow_mut() = Some(p));
        }
    }
    let _put_back = PutBack(p);
    // SAFETY: set by `with_host`, which keeps the host alive and exclusively lent for the
    // whole evaluation; it was taken out above, so this is the only reference to it.
    f(unsafe { &mut *p })
}

/// The host of `botserver run`: a dialog in the terminal, memory in memory.
pub struct TerminalHost<R: BufRead, W: Write> {
    pub input: R,
    pub output: W,
    pub memory: HashMap<String, Json>,
    pub result: Option<Json>,
}

impl<R: BufRead, W: Write> TerminalHost<R, W> {
    pub fn new(input: R, output: W) -> Self {
        TerminalHost {
            input,
            output,
            memory: HashMap::new(),
            result: None,
        }
    }
}

impl<R: BufRead, W: Write> Host for TerminalHost<R, W> {
    fn http(&mut self, call: &HttpCall) -> HostResult<Json> {
        // `botserver run` makes the request for real, under the server's allow-list.
        let policy = crate::http::policy_from_env().map_err(HostError::Fail)?;
        let key = uuid::Uuid::new_v4().to_string();
        crate::http::call(&policy, call, &key).map_err(HostError::Fail)
    }

    fn send_mail(&mut self, mail: &MailCall) -> HostResult<Json> {
        // `botserver run` sends for real, with the server's settings.
        let cfg = crate::mail::config(|_| None).map_err(HostError::Fail)?;
        let id = format!("<{}@botserver>", uuid::Uuid::new_v4().simple());
        crate::mail::send(&cfg, mail, &id, crate::mail::TIMEOUT).map_err(HostError::Fail)?;
        Ok(Json::String("sent".to_string()))
    }

    fn talk(&mut self, text: &str) -> HostResult<()> {
        writeln!(self.output, "{text}")
            .and_then(|_| self.output.flush())
            .map_err(|e| HostError::Fail(format!("cannot write output: {e}")))
    }

    fn hear(&mut self) -> HostResult<String> {
        let mut line = String::new();
        match self.input.read_line(&mut line) {
            Ok(0) => Err(HostError::Fail(
                "HEAR: the input ended before an answer was given".to_string(),
            )),
            Ok(_) => Ok(line.trim_end_matches(['\n', '\r']).to_string()),
            Err(e) => Err(HostError::Fail(format!("cannot read input: {e}"))),
        }
    }

    fn print(&mut self, text: &str) {
        eprintln!("{text}");
    }

    fn sleep(&mut self, secs: f64) -> HostResult<()> {
        if secs > 0.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(86_400.0)));
        }
        Ok(())
    }

    fn now(&mut self) -> HostResult<DateTime<Utc>> {
        Ok(Utc::now())
    }

    fn random(&mut self) -> HostResult<f64> {
        Ok(rand::random::<f64>())
    }

    fn uuid(&mut self) -> HostResult<String> {
        Ok(uuid::Uuid::now_v7().to_string())
    }

    fn memory_get(&mut self, key: &str) -> HostResult<Json> {
        Ok(self.memory.get(key).cloned().unwrap_or(Json::Null))
    }

    fn memory_set(&mut self, key: &str, value: Json) -> HostResult<()> {
        self.memory.insert(key.to_string(), value);
        Ok(())
    }

    fn set_context(&mut self, key: &str, value: Json) -> HostResult<()> {
        self.memory.insert(format!("context:{key}"), value);
        Ok(())
    }

    fn set_result(&mut self, value: Json) {
        self.result = Some(value);
    }
}
