//! Guards the shipped bot packages in `bottemplates/`: every script compiles without
//! errors (the support bot warns only about the General Bots keywords this server does
//! not provide), the example workflow of docs/language.md compiles verbatim, and the customer-support
//! workflow, run against an in-memory host that delegates to the template bots, takes
//! the approval path only for orders over 100, skips the refund when the approval is
//! rejected, and runs each delegated task exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use botserver::basic::context::{ApprovalRequest, Host, HostError, HostResult};
use botserver::basic::engine::{new_engine, Limits};
use botserver::basic::{compile, run_entry, CompiledScript, RunOutcome};
use botserver::bots::{load_packages, Package};
use botserver::cli::check::check_paths;
use chrono::{DateTime, Utc};
use rhai::Engine;
use serde_json::{json, Value as Json};

fn check(path: &str) -> (botserver::cli::check::Summary, String) {
    let mut buf = Vec::new();
    let summary = check_paths(&[PathBuf::from(path)], &mut buf).unwrap();
    (summary, String::from_utf8(buf).unwrap())
}

#[test]
fn templates_compile_without_errors() {
    let (summary, out) = check("bottemplates");
    assert_eq!(summary.errors, 0, "{out}");
    assert!(summary.files >= 21, "only {} files checked", summary.files);
    let warnings: Vec<&str> = out.lines().filter(|l| l.contains(": warning: ")).collect();
    let start = "support.gbdialog/start.bas";
    for keyword in ["USE KB", "USE TOOL"] {
        assert!(
            warnings.iter().any(|w| w.contains(start)
                && w.contains(&format!(
                    "warning: {keyword} is not available on this server"
                ))),
            "no warning for {keyword}:\n{out}"
        );
    }
    // Nothing else warns: every delegation names a template bot, every keyword exists.
    assert_eq!(summary.warnings, 2, "{out}");
}

#[test]
fn design_example_compiles_verbatim() {
    let (summary, out) = check("tests/fixtures/design_2_4_example.bas");
    assert_eq!(summary.files, 1);
    assert_eq!(summary.errors, 0, "{out}");
}

// ----- the workflow against an in-memory host ------------------------------------------

/// What every execution of one scenario shares: the packages, each bot's memory, the
/// published events, the approval requests and the decision they get.
struct World {
    engine: Engine,
    limits: Limits,
    packages: HashMap<String, Package>,
    memory: RefCell<HashMap<String, HashMap<String, Json>>>,
    events: RefCell<Vec<(String, String, Json)>>,
    shared: RefCell<Vec<(String, String, String)>>,
    synced: RefCell<usize>,
    approvals: RefCell<Vec<ApprovalRequest>>,
    decision: &'static str,
}

impl World {
    fn new(decision: &'static str) -> Rc<World> {
        let limits = Limits::default();
        let packages = load_packages(Path::new("bottemplates"))
            .unwrap()
            .into_iter()
            .map(|p| (p.name.clone(), p))
            .collect();
        Rc::new(World {
            engine: new_engine(&limits),
            limits,
            packages,
            memory: RefCell::default(),
            events: RefCell::default(),
            shared: RefCell::default(),
            synced: RefCell::default(),
            approvals: RefCell::default(),
            decision,
        })
    }

    fn compile(&self, bot: &str, script: &str) -> Arc<CompiledScript> {
        let source = &self.packages[bot].scripts[script].source;
        Arc::new(compile(&self.engine, source, &self.limits).unwrap())
    }

    fn memory(&self, bot: &str) -> HashMap<String, Json> {
        self.memory.borrow().get(bot).cloned().unwrap_or_default()
    }

    fn event_count(&self, name: &str) -> usize {
        self.events.borrow().iter().filter(|e| e.1 == name).count()
    }
}

/// One execution: a workflow, a delegated task or a branch.
struct SimHost {
    world: Rc<World>,
    bot: String,
    script: Arc<CompiledScript>,
    in_workflow: bool,
    talks: Vec<String>,
    result: Option<Json>,
}

impl SimHost {
    fn run(&mut self, entry: usize, vars: &Json) -> Json {
        let world = self.world.clone();
        let script = self.script.clone();
        let (outcome, _) = run_entry(&world.engine, &script, entry, vars, self);
        assert_eq!(outcome, RunOutcome::Completed, "{} entry {entry}", self.bot);
        self.result
            .take()
            .unwrap_or_else(|| Json::String(self.talks.join("\n")))
    }
}

impl Host for SimHost {
    fn talk(&mut self, text: &str) -> HostResult<()> {
        self.talks.push(text.to_string());
        Ok(())
    }
    fn hear(&mut self) -> HostResult<String> {
        Err(HostError::Fail("no user in this scenario".to_string()))
    }
    fn print(&mut self, _text: &str) {}
    fn sleep(&mut self, _secs: f64) -> HostResult<()> {
        Ok(())
    }
    fn now(&mut self) -> HostResult<DateTime<Utc>> {
        Ok(Utc::now())
    }
    fn random(&mut self) -> HostResult<f64> {
        Ok(0.5)
    }
    fn uuid(&mut self) -> HostResult<String> {
        Ok("00000000-0000-7000-8000-000000000000".to_string())
    }
    fn memory_get(&mut self, key: &str) -> HostResult<Json> {
        Ok(self
            .world
            .memory(&self.bot)
            .remove(key)
            .unwrap_or(Json::Null))
    }
    fn memory_set(&mut self, key: &str, value: Json) -> HostResult<()> {
        let mut memory = self.world.memory.borrow_mut();
        memory
            .entry(self.bot.clone())
            .or_default()
            .insert(key.to_string(), value);
        Ok(())
    }
    fn set_context(&mut self, _key: &str, _value: Json) -> HostResult<()> {
        Ok(())
    }
    fn set_result(&mut self, value: Json) {
        self.result = Some(value);
    }
    fn in_workflow(&self) -> bool {
        self.in_workflow
    }
    fn delegate(&mut self, bot: &str, task: &str, vars: Json) -> HostResult<Json> {
        let handler = self.world.packages[bot].task_handler(task).unwrap();
        let mut vars = vars;
        vars["task"] = json!(task);
        let mut child = SimHost {
            world: self.world.clone(),
            bot: bot.to_string(),
            script: self.world.compile(bot, &handler.name),
            in_workflow: false,
            talks: Vec::new(),
            result: None,
        };
        Ok(child.run(0, &vars))
    }
    fn approval(&mut self, req: &ApprovalRequest) -> HostResult<Json> {
        self.world.approvals.borrow_mut().push(req.clone());
        Ok(json!({ "status": self.world.decision, "by": req.who, "comment": "", "at": "" }))
    }
    fn parallel(&mut self, branches: &[(String, usize)], vars: Json) -> HostResult<Json> {
        let mut out = serde_json::Map::new();
        for (label, entry) in branches {
            let mut branch = SimHost {
                world: self.world.clone(),
                bot: self.bot.clone(),
                script: self.script.clone(),
                in_workflow: true,
                talks: Vec::new(),
                result: None,
            };
            out.insert(label.clone(), branch.run(*entry, &vars));
        }
        Ok(Json::Object(out))
    }
    fn publish(&mut self, name: &str, payload: Json) -> HostResult<()> {
        let source = self.bot.clone();
        self.world
            .events
            .borrow_mut()
            .push((source, name.to_string(), payload));
        Ok(())
    }
    fn sync_memory(&mut self, from: Option<&str>) -> HostResult<i64> {
        assert_eq!(from, Some(WORKFLOW_BOT));
        *self.world.synced.borrow_mut() += 1;
        Ok(0)
    }
    fn share_memory(&mut self, key: &str, target: Option<&str>) -> HostResult<()> {
        let target = target.unwrap_or("*").to_string();
        let own = self.world.memory(&self.bot);
        assert!(own.contains_key(key), "{} shares unset key {key}", self.bot);
        self.world
            .shared
            .borrow_mut()
            .push((self.bot.clone(), target, key.to_string()));
        Ok(())
    }
}

const WORKFLOW_BOT: &str = "customer-support-workflow";
const WORKFLOW_ID: &str = "wf-1";

/// Runs the workflow's `start.bas` as a workflow execution with `input`.
fn run_workflow(decision: &'static str, input: Json) -> (Rc<World>, Json) {
    let world = World::new(decision);
    let mut vars = input;
    vars["workflow_id"] = json!(WORKFLOW_ID);
    let mut host = SimHost {
        world: world.clone(),
        bot: WORKFLOW_BOT.to_string(),
        script: world.compile(WORKFLOW_BOT, "start"),
        in_workflow: true,
        talks: Vec::new(),
        result: None,
    };
    let result = host.run(0, &vars);
    (world, result)
}

/// The `done:` keys of every bot, as `bot/task`.
fn done_tasks(world: &World) -> Vec<String> {
    let mut out = Vec::new();
    for (bot, memory) in world.memory.borrow().iter() {
        for key in memory.keys() {
            if let Some(rest) = key.strip_prefix("done:") {
                assert!(rest.ends_with(&format!(":{WORKFLOW_ID}")), "{key}");
                out.push(format!("{bot}/{}", rest.split(':').next().unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn small_order_needs_no_approval() {
    let (world, result) = run_workflow("approved", json!({ "order_amount": 50 }));
    assert!(world.approvals.borrow().is_empty());
    assert_eq!(result["status"], "resolved", "{result}");
    assert_eq!(result["order_amount"], 50);
    assert_eq!(result["category"], "refund");
    assert_eq!(result["priority"], "high");
    assert_eq!(result["branches"]["a"]["refunded"], 50, "{result}");
    assert_eq!(result["branches"]["b"]["restocked"], 1, "{result}");
    assert_eq!(result["follow_up"]["check_in"], "scheduled");
    assert_eq!(
        done_tasks(&world),
        [
            "classifier/analyze complaint",
            "follow-up/schedule check-in",
            "inventory-updater/update stock",
            "order-checker/validate order",
            "refund-processor/process refund",
        ]
    );
    assert_eq!(world.event_count("task_done"), 5);
    assert_eq!(world.event_count("workflow_completed"), 1);
    assert_eq!(
        *world.shared.borrow(),
        [(
            WORKFLOW_BOT.to_string(),
            "support".to_string(),
            "resolution_method".to_string()
        )]
    );
    assert_eq!(world.memory("refund-processor")["runs"], 1);
}

#[test]
fn missing_amount_defaults_to_50() {
    let (world, result) = run_workflow("approved", json!({}));
    assert!(world.approvals.borrow().is_empty());
    assert_eq!(result["order_amount"], 50, "{result}");
    assert_eq!(result["status"], "resolved");
}

#[test]
fn large_order_is_approved_then_refunded() {
    let (world, result) = run_workflow("approved", json!({ "order_amount": 150 }));
    let approvals = world.approvals.borrow().clone();
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].who, "manager@company.com");
    assert_eq!(approvals[0].timeout_secs, Some(1800.0));
    assert_eq!(approvals[0].escalate, ["director@company.com"]);
    assert_eq!(result["status"], "resolved", "{result}");
    assert_eq!(result["approval"]["status"], "approved");
    assert_eq!(result["branches"]["a"]["refunded"], 150, "{result}");
    assert_eq!(done_tasks(&world).len(), 5);
}

#[test]
fn rejected_approval_skips_the_refund() {
    let (world, result) = run_workflow("rejected", json!({ "order_amount": 150 }));
    assert_eq!(world.approvals.borrow().len(), 1);
    assert_eq!(result["status"], "not refunded", "{result}");
    assert_eq!(result["refunded"], false);
    assert_eq!(
        done_tasks(&world),
        [
            "classifier/analyze complaint",
            "order-checker/validate order"
        ]
    );
    let events = world.events.borrow();
    let completed: Vec<&Json> = events
        .iter()
        .filter(|e| e.1 == "workflow_completed")
        .map(|e| &e.2)
        .collect();
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0]["refunded"], false);
    assert_eq!(completed[0]["workflow"], WORKFLOW_ID);
}

/// Runs the support bot's handler of `event` with `payload`.
fn run_support_handler(world: &Rc<World>, event: &str, payload: Json) {
    let script = world.compile("support", "events");
    let entry = script
        .handlers()
        .find(|(name, _)| *name == event)
        .map(|(_, i)| i)
        .unwrap();
    let mut host = SimHost {
        world: world.clone(),
        bot: "support".to_string(),
        script,
        in_workflow: false,
        talks: Vec::new(),
        result: None,
    };
    let vars =
        json!({ "event": { "name": event, "payload": payload, "source": "test", "at": "" } });
    host.run(entry, &vars);
}

#[test]
fn support_handlers_use_the_event_payload() {
    let world = World::new("approved");
    run_support_handler(
        &world,
        "ticket_escalated",
        json!({ "id": 1001, "assignee": "manager@company.com", "priority": "high" }),
    );
    assert_eq!(world.memory("support")["escalation_count"], 1);
    assert_eq!(world.memory("support")["last_escalation"]["id"], 1001);
    assert_eq!(world.event_count("support_alert"), 1);

    run_support_handler(
        &world,
        "workflow_completed",
        json!({ "workflow": WORKFLOW_ID, "resolution": "refund", "refunded": true }),
    );
    // A completion without a resolution (another workflow's) is ignored.
    run_support_handler(&world, "workflow_completed", json!({ "workflow": "other" }));
    assert_eq!(world.memory("support")["last_resolution"], "refund");
    assert_eq!(world.memory("support")["resolved_count"], 1);
    assert_eq!(*world.synced.borrow(), 2);
}
