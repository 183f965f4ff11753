//! The designer's edits are edits of the text that touch only the lines concerned: for
//! every workflow of the templates and the corpus, no edit gives the file back byte for
//! byte, and each edit kind on each of its steps gives a file that compiles with no error
//! and whose difference from the original is only the edited step's lines; so does a step
//! dropped on each edge (it lands between the edge's nodes) and each step moved after
//! each node it can follow. And the API
//! answers an edit with the new source, its diagnostics and its graph, without saving.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use botserver::basic::engine::{new_engine, Limits};
use botserver::designer::edit::{apply, parse_graph, Edit};
use botserver::designer::graph::NodeKind;
use common::db::TestDb;
use common::server::{BotDir, Server};
use serde_json::json;

fn bas_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            bas_files(&p, out);
        } else if p.extension().and_then(|x| x.to_str()) == Some("bas") {
            out.push(p);
        }
    }
}

/// The workflows (scripts with `ORCHESTRATE WORKFLOW`) that compile with no error.
fn workflows() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    bas_files(&root.join("bottemplates"), &mut files);
    bas_files(&root.join("tests/corpus"), &mut files);
    files.sort();
    let limits = Limits::default();
    let engine = new_engine(&limits);
    files
        .into_iter()
        .filter_map(|f| {
            let s = std::fs::read_to_string(&f).ok()?;
            (s.to_uppercase().contains("ORCHESTRATE WORKFLOW")
                && botserver::basic::compile(&engine, &s, &limits).is_ok())
            .then_some((f, s))
        })
        .collect()
}

fn compiles(source: &str) -> Result<(), String> {
    let limits = Limits::default();
    let engine = new_engine(&limits);
    botserver::basic::compile(&engine, source, &limits)
        .map(|_| ())
        .map_err(|d| format!("{:?}", d.0.first()))
}

fn lines(s: &str) -> Vec<&str> {
    s.split_inclusive('\n').collect()
}

/// The lines `new` has where `old` had lines `a..b` (0-based, end exclusive): everything
/// before and after must be byte for byte the same.
fn changed_only(old: &str, new: &str, a: usize, b: usize) -> Result<(), String> {
    let (o, n) = (lines(old), lines(new));
    if n.len() + (b - a) < o.len() {
        return Err("lines outside the step went missing".into());
    }
    let tail = o.len() - b;
    if o[..a] != n[..a] {
        return Err(format!("lines before {} changed", a + 1));
    }
    if o[b..] != n[n.len() - tail..] {
        return Err(format!("lines after {b} changed"));
    }
    Ok(())
}

#[test]
fn no_edit_gives_the_file_back_byte_for_byte() {
    let all = workflows();
    assert!(!all.is_empty());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    bas_files(&root.join("bottemplates"), &mut files);
    bas_files(&root.join("tests/corpus"), &mut files);
    for f in files {
        let s = std::fs::read_to_string(&f).unwrap();
        if parse_graph(&s).is_err() {
            continue;
        }
        assert_eq!(apply(&s, &[], &parse_graph).unwrap(), s, "{}", f.display());
    }
}

#[test]
fn each_edit_of_each_step_compiles_and_touches_only_its_lines() {
    let all = workflows();
    assert!(all.len() >= 3, "only {} workflows to edit", all.len());
    let mut edits_tried = 0;
    for (f, src) in &all {
        let g = parse_graph(src).unwrap();
        let shown = f.display();
        for n in &g.nodes {
            let (a, b) = (n.lines[0] as usize - 1, n.lines[1] as usize);
            // Insert an approval after every node but the end.
            let branch = src
                .lines()
                .nth(a)
                .is_some_and(|l| l.trim_start().to_uppercase().starts_with("BRANCH "));
            let one_line_fork =
                matches!(n.kind, NodeKind::If | NodeKind::Loop) && n.lines[0] == n.lines[1];
            if matches!(n.kind, NodeKind::End | NodeKind::Step | NodeKind::Parallel)
                || branch
                || one_line_fork
            {
                let e: Edit = serde_json::from_value(
                    json!({"op": "insert", "after": n.id, "step": {"kind": "delay", "seconds": 1}}),
                )
                .unwrap();
                assert!(
                    apply(src, &[e], &parse_graph).is_err(),
                    "{shown}: inserting after {} should be refused",
                    n.label
                );
            } else {
                let e: Edit = serde_json::from_value(json!({"op": "insert", "after": n.id,
                    "step": {"kind": "approval", "approver": "qa@example.com", "timeout": 60, "escalate": ["lead@example.com"]}})).unwrap();
                let out = apply(src, &[e], &parse_graph)
                    .unwrap_or_else(|m| panic!("{shown}: insert after {}: {m}", n.label));
                compiles(&out)
                    .unwrap_or_else(|m| panic!("{shown}: insert after {}: {m}\n{out}", n.label));
                // The original is the new text without the inserted lines.
                let (o, nl) = (lines(src), lines(&out));
                assert_eq!(nl.len(), o.len() + 3, "{shown}: insert after {}", n.label);
                let at = (0..nl.len())
                    .find(|&i| i >= o.len() || o[i] != nl[i])
                    .unwrap();
                let mut back: Vec<&str> = nl[..at].to_vec();
                back.extend_from_slice(&nl[at + 3..]);
                let back = back.concat();
                // The one change allowed outside: a last line without an ending gets one.
                assert!(
                    back == *src || back.strip_suffix('\n') == Some(src.as_str()),
                    "{shown}: insert after {} changed other lines",
                    n.label
                );
                assert!(
                    nl[at].contains("HUMAN APPROVAL FROM \"qa@example.com\""),
                    "{shown}: {}",
                    nl[at]
                );
                let g2 = parse_graph(&out).unwrap();
                assert_eq!(g2.nodes.len(), g.nodes.len() + 1, "{shown}: one node more");
                edits_tried += 1;
            }
            let editable = matches!(
                n.kind,
                NodeKind::Bot
                    | NodeKind::Approval
                    | NodeKind::WaitEvent
                    | NodeKind::Delay
                    | NodeKind::Publish
            );
            if !editable {
                continue;
            }
            // Set a property.
            let (field, value) = match n.kind {
                NodeKind::Bot => ("task", json!("another task")),
                NodeKind::Approval => ("approver", json!("someone.else@example.com")),
                NodeKind::WaitEvent | NodeKind::Publish => ("event", json!("renamed_event")),
                _ => ("seconds", json!(5)),
            };
            let e: Edit = serde_json::from_value(
                json!({"op": "set", "node": n.id, "field": field, "value": value}),
            )
            .unwrap();
            let out = apply(src, &[e], &parse_graph)
                .unwrap_or_else(|m| panic!("{shown}: set {field} of {}: {m}", n.label));
            compiles(&out)
                .unwrap_or_else(|m| panic!("{shown}: set {field} of {}: {m}\n{out}", n.label));
            changed_only(src, &out, a, b)
                .unwrap_or_else(|m| panic!("{shown}: set {field} of {}: {m}", n.label));
            let want = value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| value.to_string());
            assert!(out.contains(&want), "{shown}: {want} not in\n{out}");
            // Delete it.
            let e: Edit = serde_json::from_value(json!({"op": "delete", "node": n.id})).unwrap();
            let out = apply(src, &[e], &parse_graph).unwrap();
            changed_only(src, &out, a, b)
                .unwrap_or_else(|m| panic!("{shown}: delete {}: {m}", n.label));
            assert_eq!(lines(&out).len(), lines(src).len() - (b - a));
            edits_tried += 2;
        }
    }
    assert!(edits_tried > 30, "only {edits_tried} edits tried");
}

/// `text` without its lines `a..b` (0-based, end exclusive), each line's leading blanks
/// and trailing line ending dropped when `trim` (a moved step is indented anew).
fn without(text: &str, a: usize, b: usize) -> String {
    let mut l = lines(text);
    l.drain(a..b);
    l.concat().trim_end_matches('\n').to_string()
}

#[test]
fn each_drop_on_an_edge_and_each_move_compiles_and_touches_only_those_lines() {
    let mut drops = 0;
    let mut moves = 0;
    for (f, src) in &workflows() {
        let g = parse_graph(src).unwrap();
        let shown = f.display();
        // A step dropped on an edge goes between the edge's two nodes.
        let places = botserver::designer::edit::edge_places(&g, src);
        for (&(a, b), place) in g.edges.iter().zip(places) {
            let Some((how, id)) = place else {
                continue;
            };
            let e: Edit = serde_json::from_value(json!({"op": "insert", how: id,
                "step": {"kind": "approval", "approver": "qa@example.com"}}))
            .unwrap();
            let what = format!(
                "{shown}: a drop on {} → {}",
                g.nodes[a].label, g.nodes[b].label
            );
            let out = apply(src, &[e], &parse_graph).unwrap_or_else(|m| panic!("{what}: {m}"));
            compiles(&out).unwrap_or_else(|m| panic!("{what}: {m}\n{out}"));
            let (o, nl) = (lines(src), lines(&out));
            assert_eq!(nl.len(), o.len() + 1, "{what}");
            let at = (0..nl.len())
                .find(|&i| i >= o.len() || o[i] != nl[i])
                .unwrap();
            assert!(
                nl[at].contains("HUMAN APPROVAL FROM \"qa@example.com\""),
                "{what}: {}",
                nl[at]
            );
            assert_eq!(
                without(&out, at, at + 1),
                src.trim_end_matches('\n'),
                "{what}: other lines changed"
            );
            // In the new graph the new node stands between the two.
            let g2 = parse_graph(&out).unwrap();
            let new = g2
                .nodes
                .iter()
                .position(|n| n.label.contains("qa@example.com"))
                .unwrap();
            let before = g2
                .edges
                .iter()
                .find(|e| e.1 == new)
                .map(|e| &g2.nodes[e.0].label);
            let after = g2
                .edges
                .iter()
                .find(|e| e.0 == new)
                .map(|e| &g2.nodes[e.1].label);
            assert_eq!(
                before,
                Some(&g.nodes[a].label),
                "{what}: comes after {before:?}"
            );
            assert_eq!(
                after,
                Some(&g.nodes[b].label),
                "{what}: goes on to {after:?}"
            );
            drops += 1;
        }
        // Each step moved after each node it can follow: the file compiles, and apart from
        // the moved lines (indented anew) it is the file it was.
        for n in g.nodes.iter().filter(|n| {
            matches!(
                n.kind,
                NodeKind::Bot
                    | NodeKind::Approval
                    | NodeKind::WaitEvent
                    | NodeKind::Delay
                    | NodeKind::Publish
            )
        }) {
            let (a, b) = (n.lines[0] as usize - 1, n.lines[1] as usize);
            let block: Vec<String> = lines(src)[a..b]
                .iter()
                .map(|l| l.trim().to_string())
                .collect();
            let rest = without(src, a, b);
            for t in g.nodes.iter().filter(|t| t.id != n.id) {
                let e: Edit =
                    serde_json::from_value(json!({"op": "move", "node": n.id, "after": t.id}))
                        .unwrap();
                let Ok(out) = apply(src, &[e], &parse_graph) else {
                    continue;
                };
                let what = format!("{shown}: move {} after {}", n.label, t.label);
                // Arms of an IF may use the same step label (one of them runs); a step
                // moved out of one next to its twin is the one error a move can make,
                // and check says so.
                if let Err(m) = compiles(&out) {
                    assert!(m.contains("duplicate step label"), "{what}: {m}\n{out}");
                }
                let nl = lines(&out);
                assert_eq!(nl.len(), lines(src).len(), "{what}");
                let at = (0..=nl.len() - block.len())
                    .filter(|&k| (0..block.len()).all(|j| nl[k + j].trim() == block[j]))
                    .find(|&k| without(&out, k, k + block.len()) == rest);
                assert!(at.is_some(), "{what}: other lines changed\n{out}");
                moves += 1;
            }
        }
    }
    assert!(drops > 30, "only {drops} drops tried");
    assert!(moves > 100, "only {moves} moves tried");
}

/// The seed's workflow in a bot folder made with the templates.
const SEED: &str = "customer-support-workflow.gbai/customer-support-workflow.gbdialog/start.bas";

/// The seed's graph from the API, and the id of its step 2 (BOT order-checker).
fn step_two(s: &Server) -> (serde_json::Value, String) {
    let (_, g) = s.get("/api/bots/customer-support-workflow/scripts/start/graph");
    let two = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["label"] == "2 · BOT order-checker · validate order")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    (g, two)
}

#[test]
fn the_api_answers_edits_with_source_diagnostics_and_graph_without_saving() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = Server::start(&db.url, &bots.path);
    let file = bots.path.join(SEED);
    let before = std::fs::read_to_string(&file).unwrap();
    let path = "/api/bots/customer-support-workflow/scripts/start/edits";
    let (st, r) = s.post(path, json!({"edits": []}));
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["source"], before.as_str());
    assert_eq!(r["diagnostics"], json!([]));

    let (_, two) = step_two(&s);
    let (st, r) = s.post(path, json!({"edits": [{"op": "insert", "after": two, "step": {"kind": "approval", "approver": "ops@example.com"}}]}));
    assert_eq!(st, 200, "{r}");
    let src = r["source"].as_str().unwrap();
    assert!(
        src.contains("  STEP 6: HUMAN APPROVAL FROM \"ops@example.com\"\n"),
        "{src}"
    );
    assert_eq!(r["diagnostics"], json!([]), "{r}");
    assert!(r["graph"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["label"] == "6 · APPROVAL ops@example.com"));
    // Nothing was saved.
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);

    // An edit that breaks the script comes back with its diagnostic, not applied on disk.
    let (st, r) = s.post(
        path,
        json!({"edits": [{"op": "set", "node": two, "field": "bot", "value": "nobody"}]}),
    );
    assert_eq!(st, 200);
    assert!(
        r["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["message"]
                .as_str()
                .unwrap()
                .contains("unknown bot 'nobody'")),
        "{r}"
    );
    // Edits apply to a `source` given (an unsaved version) instead of the file.
    let unsaved = "ORCHESTRATE WORKFLOW \"w\"\n  STEP 1: DELAY 5 ' short\nEND WORKFLOW\n";
    let g = parse_graph(unsaved).unwrap();
    let delay = g
        .nodes
        .iter()
        .find(|n| n.kind == NodeKind::Delay)
        .unwrap()
        .id
        .clone();
    let (st, r) = s.post(
        path,
        json!({"source": unsaved, "edits": [{"op": "insert", "before": delay, "step": {"kind": "publish", "event": "ready"}}]}),
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        r["source"],
        "ORCHESTRATE WORKFLOW \"w\"\n  STEP 2: PUBLISH EVENT \"ready\"\n  STEP 1: DELAY 5 ' short\nEND WORKFLOW\n"
    );
    let (st, r) = s.post(path, json!({"source": unsaved, "edits": []}));
    assert_eq!((st, r["source"].as_str()), (200, Some(unsaved)));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);

    // Bad edits are 400s that say which.
    let (st, r) = s.post(path, json!({"edits": [{"op": "delete", "node": "n999"}]}));
    assert_eq!(st, 400);
    assert!(
        r["message"].as_str().unwrap().contains("no node 'n999'"),
        "{r}"
    );
    let (st, _) = s.post(path, json!({"edits": [{"op": "explode"}]}));
    assert_eq!(st, 400);
    for place in [json!({}), json!({"after": two, "before": two})] {
        let mut e = json!({"op": "insert", "step": {"kind": "delay"}});
        e.as_object_mut()
            .unwrap()
            .extend(place.as_object().unwrap().clone());
        let (st, r) = s.post(path, json!({ "edits": [e] }));
        assert_eq!(st, 400, "{r}");
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .contains("either 'after' or 'before'"),
            "{r}"
        );
    }
    let (st, r) = s.post(
        path,
        json!({"edits": [{"op": "set", "node": two, "field": "colour", "value": "red"}]}),
    );
    assert_eq!(st, 400, "{r}");
}

#[test]
fn saving_writes_the_file_refuses_conflicts_and_errors_and_new_runs_take_the_new_version() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = Server::start(&db.url, &bots.path);
    let file = bots.path.join(SEED);
    let before = std::fs::read_to_string(&file).unwrap();
    let old_run = s.start_workflow(
        "customer-support-workflow",
        "start",
        json!({"order_amount": 150}),
    );
    common::server::eventually(20.0, "the old run to wait", || {
        let (_, d) = s.get(&format!("/api/workflows/{old_run}"));
        if d["status"] == "waiting" {
            Ok(())
        } else {
            Err(format!("{d}"))
        }
    });

    let (g, two) = step_two(&s);
    let base = g["hash"].as_str().unwrap().to_string();
    let edits = "/api/bots/customer-support-workflow/scripts/start/edits";
    // An empty approver is a diagnostic on its line, gone once the approver is given.
    let (_, r) = s.post(edits, json!({"edits": [{"op": "insert", "after": two, "step": {"kind": "approval", "approver": ""}}]}));
    let d = &r["diagnostics"][0];
    assert_eq!(d["severity"], "error", "{r}");
    assert!(
        d["message"].as_str().unwrap().contains("names nobody"),
        "{r}"
    );
    let bad = r["source"].as_str().unwrap().to_string();
    let (_, r) = s.post(edits, json!({"edits": [{"op": "insert", "after": two, "step": {"kind": "approval", "approver": "ops@example.com"}}]}));
    assert_eq!(r["diagnostics"], json!([]), "{r}");
    let good = r["source"].as_str().unwrap().to_string();

    let save = "/api/bots/customer-support-workflow/scripts/start";
    let (st, e) = s.request(
        "PUT",
        save,
        Some(json!({"source": bad, "base": base}).to_string()),
        None,
    );
    assert_eq!(st, 400, "{e}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        before,
        "a script with errors was saved"
    );
    let (st, r) = s.request(
        "PUT",
        save,
        Some(json!({"source": good, "base": base}).to_string()),
        None,
    );
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["running_on_previous"], 1, "{r}");
    let after = std::fs::read_to_string(&file).unwrap();
    assert_eq!(after, good);
    // The file differs by the inserted line only.
    let (o, n) = (lines(&before), lines(&after));
    assert_eq!(n.len(), o.len() + 1);
    let at = (0..o.len()).find(|&i| o[i] != n[i]).unwrap();
    assert_eq!([&n[..at], &n[at + 1..]].concat(), o);
    // Saving again from the old version is a conflict, not an overwrite.
    let (st, e) = s.request(
        "PUT",
        save,
        Some(json!({"source": before, "base": base}).to_string()),
        None,
    );
    assert_eq!(st, 409, "{e}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), good);

    // New runs take the new version; the old one finishes on its own.
    let new_run = s.start_workflow(
        "customer-support-workflow",
        "start",
        json!({"order_amount": 50}),
    );
    let who = common::server::eventually(20.0, "the new run to wait for ops", || {
        let (_, d) = s.get(&format!("/api/workflows/{new_run}"));
        d["waiting_for"]["approver"]
            .as_str()
            .map(str::to_string)
            .ok_or(format!("{d}"))
    });
    assert_eq!(who, "ops@example.com");
    let (_, a) = s.get(&format!("/api/approvals?workflow={old_run}"));
    let id = a["approvals"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        s.post(
            &format!("/api/approvals/{id}"),
            json!({"decision": "approve"})
        )
        .0,
        200
    );
    assert_eq!(s.workflow_result(&old_run)["status"], "completed");
}
