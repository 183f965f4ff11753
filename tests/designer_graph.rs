//! The designer's graph of a script: that it is the file drawn (every node's lines are
//! its statement's, in the file), that it is whole (every node reached from the start
//! and reaching the end), that its layout is deterministic and has no overlapping
//! nodes, for every script of the corpus and the templates; and that the API and the
//! page show an execution's step statuses on it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;

use botserver::basic::engine::Limits;
use botserver::designer::graph::{graph, Graph, NodeKind};
use botserver::designer::layout::{layout, svg};
use common::db::TestDb;
use common::server::{eventually, BotDir, Server};
use serde_json::{json, Value};

fn bas_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            bas_files(&p, out);
        } else if p.extension().and_then(|x| x.to_str()) == Some("bas") {
            out.push(p);
        }
    }
}

fn graph_of(source: &str) -> Option<Graph> {
    botserver::basic::parse_source(source, &Limits::default())
        .ok()
        .map(|s| graph(&s, source))
}

/// Every node reachable from the start, and the end from every node.
fn whole(g: &Graph) -> Result<(), String> {
    let n = g.nodes.len();
    let mut out: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut inn: HashMap<usize, Vec<usize>> = HashMap::new();
    for (a, b) in &g.edges {
        out.entry(*a).or_default().push(*b);
        inn.entry(*b).or_default().push(*a);
    }
    let reach = |from: usize, next: &HashMap<usize, Vec<usize>>| {
        let mut seen = HashSet::from([from]);
        let mut q = VecDeque::from([from]);
        while let Some(x) = q.pop_front() {
            for y in next.get(&x).into_iter().flatten() {
                if seen.insert(*y) {
                    q.push_back(*y);
                }
            }
        }
        seen
    };
    let start = g
        .nodes
        .iter()
        .position(|x| x.kind == NodeKind::Start)
        .ok_or("no start")?;
    let end = g
        .nodes
        .iter()
        .position(|x| x.kind == NodeKind::End)
        .ok_or("no end")?;
    let from_start = reach(start, &out);
    let to_end = reach(end, &inn);
    for i in 0..n {
        if !from_start.contains(&i) {
            return Err(format!(
                "{} ({}) is not reached from the start",
                g.nodes[i].id, g.nodes[i].label
            ));
        }
        if !to_end.contains(&i) {
            return Err(format!(
                "{} ({}) does not reach the end",
                g.nodes[i].id, g.nodes[i].label
            ));
        }
    }
    Ok(())
}

#[test]
fn every_script_of_the_corpus_and_templates_draws_whole_and_deterministic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    bas_files(&root.join("bottemplates"), &mut files);
    bas_files(&root.join("tests/corpus"), &mut files);
    files.sort();
    let mut drawn = 0;
    let mut with_steps = 0;
    for f in &files {
        let source = std::fs::read_to_string(f).unwrap();
        let Some(g) = graph_of(&source) else { continue };
        drawn += 1;
        let total = source.lines().count().max(1) as u32;
        for node in &g.nodes {
            let [a, b] = node.lines;
            assert!(
                1 <= a && a <= b && b <= total,
                "{}: {} has lines {a}-{b} of {total}",
                f.display(),
                node.label
            );
        }
        whole(&g).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let (places, _, _) = layout(&g);
        for i in 0..places.len() {
            for j in i + 1..places.len() {
                let (p, q) = (places[i], places[j]);
                let apart = (p.x - q.x).abs() * 2.0 >= p.w + q.w - 0.01
                    || (p.y - q.y).abs() >= p.h.min(q.h) - 0.01
                        && (p.y + p.h <= q.y + 0.01 || q.y + q.h <= p.y + 0.01);
                assert!(
                    apart,
                    "{}: {} and {} overlap",
                    f.display(),
                    g.nodes[i].label,
                    g.nodes[j].label
                );
            }
        }
        let none = |_: usize| None;
        assert_eq!(
            svg(&g, &none, &none),
            svg(&graph_of(&source).unwrap(), &none, &none),
            "{}",
            f.display()
        );
        if g.nodes.iter().any(|n| n.step.is_some()) {
            with_steps += 1;
        }
    }
    assert!(drawn > 50, "only {drawn} scripts drawn");
    assert!(with_steps >= 5, "only {with_steps} scripts with steps");
}

#[test]
fn the_seeds_workflow_is_drawn_step_by_step_with_its_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(root.join(
        "bottemplates/customer-support-workflow.gbai/customer-support-workflow.gbdialog/start.bas",
    ))
    .unwrap();
    let g = graph_of(&source).unwrap();
    let find = |label: &str| {
        g.nodes
            .iter()
            .find(|n| n.label == label)
            .unwrap_or_else(|| {
                panic!(
                    "no node {label:?} in {:?}",
                    g.nodes.iter().map(|n| &n.label).collect::<Vec<_>>()
                )
            })
    };
    let line_of =
        |needle: &str| source.lines().position(|l| l.contains(needle)).unwrap() as u32 + 1;
    let one = find("1 · BOT classifier · analyze complaint");
    assert_eq!(
        one.lines,
        [line_of("STEP 1:"), line_of("STEP 1:")],
        "the comment after it is not its line"
    );
    assert_eq!(one.kind, NodeKind::Bot);
    assert_eq!(one.step.as_deref(), Some("1"));
    let three = find("3 · APPROVAL manager@company.com");
    assert_eq!(three.lines, [line_of("STEP 3:"), line_of("ON TIMEOUT")]);
    assert!(
        three.detail.contains(&("timeout".into(), "1800".into())),
        "{:?}",
        three.detail
    );
    assert!(
        three
            .detail
            .contains(&("escalate".into(), "director@company.com".into())),
        "{:?}",
        three.detail
    );
    let par = g
        .nodes
        .iter()
        .find(|n| n.kind == NodeKind::Parallel)
        .unwrap();
    assert_eq!(par.step.as_deref(), Some("4"));
    // The two branches hang off the PARALLEL and meet at its join.
    let a = find("BOT refund-processor · process refund");
    let b = find("BOT inventory-updater · update stock");
    let idx = |id: &str| g.nodes.iter().position(|n| n.id == id).unwrap();
    let pi = idx(&par.id);
    assert!(g.edges.contains(&(pi, idx(&a.id))) && g.edges.contains(&(pi, idx(&b.id))));
    let join_a = g.edges.iter().find(|(x, _)| *x == idx(&a.id)).unwrap().1;
    let join_b = g.edges.iter().find(|(x, _)| *x == idx(&b.id)).unwrap().1;
    assert_eq!(join_a, join_b);
    assert_eq!(g.nodes[join_a].kind, NodeKind::Join);
    // IF order_amount > 100 is a fork whose else arm goes straight to its join.
    let iff = g.nodes.iter().find(|n| n.kind == NodeKind::If).unwrap();
    assert_eq!(iff.label, "IF order_amount > 100 THEN");
    whole(&g).unwrap();
}

#[test]
fn the_api_and_the_page_show_an_executions_steps_on_the_graph() {
    let db = TestDb::new();
    let bots = BotDir::new().with_templates();
    let s = Server::start(&db.url, &bots.path);
    let path = "/api/bots/customer-support-workflow/scripts/start/graph";
    let (st, g) = s.get(path);
    assert_eq!(st, 200, "{g}");
    assert!(g["nodes"].as_array().unwrap().len() > 10);
    assert!(g["edges"].as_array().unwrap().len() > 10);

    let wf = s.start_workflow(
        "customer-support-workflow",
        "start",
        json!({"order_amount": 150}),
    );
    let node = |g: &Value, label: &str| {
        g["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["label"] == label)
            .cloned()
            .unwrap_or_else(|| panic!("no {label}: {g}"))
    };
    let g = eventually(20.0, "the approval step to wait", || {
        let (_, g) = s.get(&format!("{path}?execution={wf}"));
        let n = node(&g, "3 · APPROVAL manager@company.com");
        if n["status"] == "waiting" {
            Ok(g)
        } else {
            Err(format!("{n}"))
        }
    });
    assert_eq!(
        node(&g, "1 · BOT classifier · analyze complaint")["status"],
        "completed"
    );
    assert_eq!(
        node(&g, "PARALLEL")["status"],
        Value::Null,
        "the PARALLEL has not started"
    );
    // Without an execution: one running execution stands at step 3.
    let (_, all) = s.get(path);
    assert_eq!(
        node(&all, "3 · APPROVAL manager@company.com")["at"],
        1,
        "{all}"
    );

    let page = s.request(
        "GET",
        &format!("/designer/customer-support-workflow/start?execution={wf}"),
        None,
        None,
    );
    assert_eq!(page.0, 200);
    let html = page.1.as_str().unwrap().to_string();
    assert!(
        html.contains("<svg") && html.contains("s-waiting"),
        "{html}"
    );
    assert!(
        html.contains("id=\"L16\""),
        "the source lines are not on the page"
    );

    let (_, a) = s.get(&format!("/api/approvals?workflow={wf}"));
    let id = a["approvals"][0]["id"].as_str().unwrap().to_string();
    let (st, _) = s.post(
        &format!("/api/approvals/{id}"),
        json!({"decision": "approve"}),
    );
    assert_eq!(st, 200);
    assert_eq!(s.workflow_result(&wf)["status"], "completed");
    let (_, g) = s.get(&format!("{path}?execution={wf}"));
    for n in g["nodes"].as_array().unwrap() {
        if n["step"].is_string() && n["label"] != "join" {
            assert!(n["status"] == "completed" || n["status"].is_null(), "{n}");
        }
    }
    assert_eq!(node(&g, "end")["status"], "completed");
    assert_eq!(
        node(&g, "3 · APPROVAL manager@company.com")["status"],
        "completed",
        "{g}"
    );
    assert_eq!(
        node(&g, "BOT refund-processor · process refund")["status"],
        "completed",
        "{g}"
    );

    // Bad input: an unknown script, an execution of another script, a bad id.
    assert_eq!(
        s.get("/api/bots/customer-support-workflow/scripts/nope/graph")
            .0,
        404
    );
    assert_eq!(s.get("/api/bots/nobody/scripts/start/graph").0, 404);
    assert_eq!(s.get(&format!("{path}?execution=nope")).0, 400);
    let other = s.start_workflow("classifier", "analyze-complaint", json!({}));
    let (st, e) = s.get(&format!("{path}?execution={other}"));
    assert_eq!(st, 400, "{e}");
}
