//! The real `botserver` binary as a child process, driven over HTTP like a user.
//! Dropping a [`Server`] kills it; [`Server::kill`] is a real SIGKILL.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A folder of bot packages for one test.
pub struct BotDir {
    pub path: PathBuf,
}

impl BotDir {
    pub fn new() -> BotDir {
        let path =
            std::env::temp_dir().join(format!("botserver-test-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&path).unwrap();
        BotDir { path }
    }

    /// Writes `bot.gbai/bot.gbdialog/script.bas`.
    pub fn script(&self, bot: &str, script: &str, source: &str) -> &Self {
        let dir = self
            .path
            .join(format!("{bot}.gbai"))
            .join(format!("{bot}.gbdialog"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{script}.bas")), source).unwrap();
        self
    }

    /// Copies the packages of `bottemplates/` in.
    pub fn with_templates(self) -> Self {
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("bottemplates"),
            &self.path,
        );
        self
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

impl Drop for BotDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A running server process.
pub struct Server {
    child: Child,
    pub base: String,
    pub log: PathBuf,
}

/// Options for starting a server.
#[derive(Clone, Default)]
pub struct Options {
    pub admin_token: Option<String>,
    pub redis_url: Option<String>,
    pub instance: Option<String>,
    pub env: Vec<(String, String)>,
}

impl Server {
    pub fn start(db_url: &str, bots: &Path) -> Server {
        Server::start_with(db_url, bots, Options::default())
    }

    pub fn start_with(db_url: &str, bots: &Path, opts: Options) -> Server {
        let logs = Path::new(env!("CARGO_TARGET_TMPDIR")).join("server-logs");
        std::fs::create_dir_all(&logs).unwrap();
        let log = logs.join(format!("{}.log", uuid::Uuid::now_v7().simple()));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_botserver"));
        cmd.args(["serve", "--bind", "127.0.0.1:0", "--bots"])
            .arg(bots)
            .env("DATABASE_URL", db_url)
            .env_remove("REDIS_URL")
            .env_remove("BOTSERVER_ADMIN_TOKEN")
            .env_remove("BOTSERVER_HTTP_ALLOW")
            .env("RUST_LOG", "botserver=info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(t) = &opts.admin_token {
            cmd.env("BOTSERVER_ADMIN_TOKEN", t);
        }
        if let Some(r) = &opts.redis_url {
            cmd.env("REDIS_URL", r);
        }
        if let Some(i) = &opts.instance {
            cmd.env("BOTSERVER_INSTANCE", i);
        }
        // Tests run servers side by side on one PostgreSQL (100 connections by default):
        // a smaller pool per server unless a test asks otherwise.
        if !opts.env.iter().any(|(k, _)| k == "BOTSERVER_MAX_RUNS") {
            cmd.env("BOTSERVER_MAX_RUNS", "6");
        }
        // Tests drive the public routes far faster than a person: no per-client limit
        // unless a test sets one.
        cmd.env("BOTSERVER_PUBLIC_RATE", "off");
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("cannot start botserver");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("botserver listening on ") {
                    let _ = tx.send(addr.to_string());
                }
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(b) => b,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "botserver did not start; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Server { child, base, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM (graceful shutdown) and wait up to `within` for the exit.
    pub fn terminate(mut self, within: Duration) -> bool {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let end = Instant::now() + within;
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// This instance's `botserver_runs_total` from its `/metrics` (Prometheus text).
    pub fn runs_total(&self) -> u64 {
        self.metric("botserver_runs_total")
    }

    /// One counter of this instance's `/metrics` (Prometheus text).
    pub fn metric(&self, name: &str) -> u64 {
        let (st, m) = self.get("/metrics");
        assert_eq!(st, 200, "{m}");
        let text = m
            .as_str()
            .unwrap_or_else(|| panic!("metrics not text: {m}"));
        let prefix = format!("{name} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{name}: {e}\n{text}"))
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.request("GET", path, None, None)
    }

    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.request("POST", path, Some(body.to_string()), None)
    }

    pub fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        self.request("POST", path, Some(body.to_string()), None)
    }

    pub fn post_auth(&self, path: &str, body: Value, token: &str) -> (u16, Value) {
        self.request("POST", path, Some(body.to_string()), Some(token))
    }

    pub fn get_auth(&self, path: &str, token: &str) -> (u16, Value) {
        self.request("GET", path, None, Some(token))
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        let mut req = agent.request(method, &format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let resp = match body {
            Some(b) => req.set("Content-Type", "application/json").send_string(&b),
            None => req.call(),
        };
        let resp = match resp {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path} failed: {e}"),
        };
        let status = resp.status();
        let text = resp.into_string().unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    /// Starts a conversation; returns (id, reply).
    pub fn converse(&self, bot: &str) -> (String, Value) {
        let (status, v) = self.post(
            &format!("/api/bots/{bot}/conversations"),
            serde_json::json!({}),
        );
        assert_eq!(status, 201, "starting a conversation with {bot}: {v}");
        (v["id"].as_str().unwrap().to_string(), v)
    }

    /// Starts `script` of `bot` as a workflow with `input` (asserting a 201); its id.
    pub fn start_workflow(&self, bot: &str, script: &str, input: Value) -> String {
        let (st, v) = self.post(
            "/api/workflows",
            serde_json::json!({ "bot": bot, "script": script, "input": input }),
        );
        assert_eq!(st, 201, "starting {bot}/{script}: {v}");
        v["id"].as_str().unwrap().to_string()
    }

    /// The workflow's end, awaited up to 30 s: `{id, status, result}`.
    pub fn workflow_result(&self, id: &str) -> Value {
        self.get(&format!("/api/workflows/{id}/result?timeout=30"))
            .1
    }

    /// The approval request workflow `wf` waits for and its decision token (from its
    /// `approval_requested` event), polled for up to 20 s; `admin` is the admin token
    /// when the server has one.
    pub fn approval_of(&self, wf: &str, admin: Option<&str>) -> (String, String) {
        eventually(20.0, &format!("{wf} to wait for its approval"), || {
            let (_, d) = self.request("GET", &format!("/api/workflows/{wf}"), None, admin);
            let Some(id) = d["waiting_for"]["approval_id"].as_str() else {
                return Err(format!("waiting_for = {}", d["waiting_for"]));
            };
            let (_, evs) = self.request(
                "GET",
                "/api/events?name=approval_requested&limit=1000",
                None,
                admin,
            );
            let ev = evs["events"]
                .as_array()
                .and_then(|a| a.iter().find(|e| e["payload"]["approval_id"] == id))
                .cloned()
                .ok_or("no approval_requested event yet")?;
            Ok((
                id.to_string(),
                ev["payload"]["token"].as_str().unwrap_or("").to_string(),
            ))
        })
    }

    pub fn say(&self, conversation: &str, text: &str) -> Value {
        let (status, v) = self.post(
            &format!("/api/conversations/{conversation}/messages"),
            serde_json::json!({ "text": text }),
        );
        assert_eq!(status, 200, "message to {conversation}: {v}");
        v
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` until it gives `Some`, or fails after `secs` with the last thing seen.
pub fn eventually<T>(secs: f64, what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut last = String::new();
    while Instant::now() < end {
        match f() {
            Ok(v) => return v,
            Err(seen) => last = seen,
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what}: still not true after {secs} s; last seen: {last}");
}

/// The texts of a reply's `messages`.
pub fn texts(v: &Value) -> Vec<String> {
    v["messages"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}
