//! The workflow designer, first part: the graph of a script computed from its syntax
//! tree (`graph.rs`), laid out on the server as SVG (`layout.rs`), with node ↔ source
//! line links and a live overlay of one execution's step statuses (or, without one, how
//! many running executions stand at each step). The `.bas` file stays the one source of
//! truth: the graph is that file drawn, and every edit of the graph is an edit of its
//! text (`edit.rs`), previewed with its diagnostics ([`preview`]), reviewed as a diff of
//! lines ([`diff`]) and saved over the file only when it is still the version the
//! editing began from ([`save`]).

#![warn(missing_docs)]

pub mod edit;
pub mod graph;
pub mod layout;
pub mod templates;

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::db::{executions, steps};
use crate::error::Error;
use crate::workflow::Runtime;
use graph::{Graph, NodeKind};

/// A script's graph and its source as loaded.
pub struct Drawn {
    /// The graph.
    pub graph: Graph,
    /// The source it was computed from.
    pub source: String,
    /// The script's file name.
    pub file: String,
}

/// A script as loaded, whether it parses or not: its package, its file and its text.
pub struct Loaded {
    /// The package it belongs to.
    pub package: crate::bots::Package,
    /// Its file on disk.
    pub path: std::path::PathBuf,
    /// Its file name (`start.bas`).
    pub file: String,
    /// Its text as loaded.
    pub source: String,
}

/// `bot`'s `script` as loaded; an unknown bot or script is a 404.
pub fn loaded(rt: &Runtime, bot: &str, script: &str) -> Result<Loaded, Error> {
    let package = rt
        .package(bot)
        .ok_or_else(|| Error::NotFound(format!("unknown bot '{bot}'")))?;
    let f = package
        .scripts
        .get(&script.to_lowercase())
        .ok_or_else(|| Error::NotFound(format!("bot '{bot}' has no script '{script}'")))?;
    let (path, source) = (f.path.clone(), f.source.clone());
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_else(|| format!("{script}.bas"));
    Ok(Loaded {
        package,
        path,
        file,
        source,
    })
}

/// The graph of `bot`'s `script` as loaded; a script that does not parse is a 400
/// naming the first error with its line and column.
pub fn drawn(rt: &Runtime, bot: &str, script: &str) -> Result<Drawn, Error> {
    let l = loaded(rt, bot, script)?;
    let parsed = crate::basic::parse_source(&l.source, &rt.config.limits).map_err(|d| {
        let first =
            d.0.first()
                .map(|d| format!("{}:{}: {}", d.span.line, d.span.col, d.message));
        Error::BadRequest(format!(
            "{script}.bas does not parse, so it has no graph: {}",
            first.unwrap_or_default()
        ))
    })?;
    Ok(Drawn {
        graph: graph::graph(&parsed, &l.source),
        source: l.source,
        file: l.file,
    })
}

/// What the overlay shows on each node: a status (of one execution's steps) and a badge
/// (how many running executions stand there).
pub struct Overlay {
    /// Each node's status class, if any.
    pub status: Vec<Option<String>>,
    /// Each node's badge, if any.
    pub badge: Vec<Option<String>>,
}

/// The overlay of `execution` on `g` (a 400 when it runs another script), or of every
/// running execution of the script.
pub fn overlay(
    rt: &Runtime,
    g: &Graph,
    bot: &str,
    script: &str,
    execution: Option<Uuid>,
) -> Result<Overlay, Error> {
    let mut conn = rt.conn()?;
    let n = g.nodes.len();
    let mut status = vec![None; n];
    let mut badge = vec![None; n];
    match execution {
        Some(id) => {
            let e = executions::get(&mut conn, id)?
                .ok_or_else(|| Error::NotFound(format!("no workflow {id}")))?;
            // An overlay of an execution of another script would make no sense.
            if e.bot != bot || !e.script.eq_ignore_ascii_case(script) {
                return Err(Error::BadRequest(format!(
                    "execution {id} does not run {bot}/{script}.bas"
                )));
            }
            let by_label: HashMap<String, String> = steps::steps(&mut conn, id)?
                .into_iter()
                .map(|s| (s.label, s.status.as_str().to_string()))
                .collect();
            for (i, node) in g.nodes.iter().enumerate() {
                status[i] = match node.kind {
                    NodeKind::Start => Some("completed".to_string()),
                    NodeKind::End => e
                        .status
                        .is_terminal()
                        .then(|| e.status.as_str().to_string()),
                    _ => node.step.as_ref().and_then(|s| by_label.get(s).cloned()),
                };
            }
        }
        None => {
            let at = at_steps(&mut conn, bot, script)?;
            // A step's count goes on its first node only.
            let mut done = std::collections::HashSet::new();
            for (i, node) in g.nodes.iter().enumerate() {
                if let Some(s) = &node.step {
                    if let Some(n) = at.get(s) {
                        if done.insert(s.clone()) {
                            badge[i] = Some(n.to_string());
                            status[i] = Some("running".into());
                        }
                    }
                }
            }
        }
    }
    Ok(Overlay { status, badge })
}

/// How many running or waiting executions of `bot`'s `script` stand at each step (by
/// step label).
pub fn at_steps(
    conn: &mut PgConnection,
    bot: &str,
    script: &str,
) -> Result<HashMap<String, i64>, Error> {
    #[derive(QueryableByName)]
    struct At {
        #[diesel(sql_type = Text)]
        label: String,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Vec<At> = diesel::sql_query(
        "SELECT s.label, count(*) AS n FROM workflow_steps s \
         JOIN workflow_executions e ON e.id = s.execution_id \
         WHERE e.kind = 'workflow' AND e.bot = $1 AND e.script = $2 \
         AND e.status IN ('running', 'waiting') AND s.status IN ('running', 'waiting', 'retrying') \
         GROUP BY s.label",
    )
    .bind::<Text, _>(bot)
    .bind::<Text, _>(script.to_lowercase())
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.label, r.n)).collect())
}

/// The graph as the API gives it: nodes (id, kind, label, lines, step, detail, and with
/// an execution its status), edges.
pub fn graph_json(g: &Graph, o: Option<&Overlay>) -> Value {
    let nodes: Vec<Value> = g
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let detail: serde_json::Map<String, Value> = n
                .detail
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            let mut v = json!({
                "id": n.id, "kind": n.kind, "label": n.label, "lines": n.lines,
                "step": n.step, "detail": detail,
            });
            if let Some(o) = o {
                v["status"] = json!(o.status[i]);
                v["at"] = json!(o.badge[i].as_ref().and_then(|b| b.parse::<i64>().ok()));
            }
            v
        })
        .collect();
    let edges: Vec<Value> = g
        .edges
        .iter()
        .map(|(a, b)| json!({ "from": g.nodes[*a].id, "to": g.nodes[*b].id }))
        .collect();
    json!({ "nodes": nodes, "edges": edges })
}

/// The graph of a drawn script with the version its source is (`hash`, what a save must
/// start from).
pub fn drawn_json(d: &Drawn, o: Option<&Overlay>) -> Value {
    let mut v = graph_json(&d.graph, o);
    v["hash"] = json!(crate::basic::content_hash(&d.source));
    v["file"] = json!(d.file);
    v
}

/// The diagnostics of `source` as `check` gives them (errors and warnings with their
/// line and column), through the runtime's engine.
pub fn diagnostics(rt: &Runtime, source: &str) -> Vec<Value> {
    let diags = rt.check(source);
    diags
        .iter()
        .map(|d| {
            json!({ "severity": d.severity.to_string(), "line": d.span.line, "col": d.span.col,
                    "message": d.message })
        })
        .collect()
}

/// What saving a script did.
pub struct Saved {
    /// The new version's hash.
    pub hash: String,
    /// Executions of the script still running or waiting on the version it replaced
    /// (they finish on it; new ones start on the new one).
    pub on_previous: i64,
}

/// Writes `source` over `bot`'s `script` when the file on disk is still the version
/// whose hash is `base` (else a conflict, not an overwrite) and `source` compiles with no
/// error (a script with errors is not saved over a working one); then loads the package
/// again, so that new executions run the new version.
pub fn save(
    rt: &Runtime,
    bot: &str,
    script: &str,
    source: &str,
    base: &str,
) -> Result<Saved, Error> {
    let file = loaded(rt, bot, script)?;
    if let Err(d) = crate::basic::compile(&rt.engine, source, &rt.config.limits) {
        let first =
            d.0.iter()
                .find(|d| d.is_error())
                .map(|d| format!("{}:{}: {}", d.span.line, d.span.col, d.message))
                .unwrap_or_default();
        return Err(Error::BadRequest(format!(
            "the script has errors and is not saved: {first}"
        )));
    }
    let on_disk = std::fs::read_to_string(&file.path)
        .map_err(|e| Error::Internal(format!("cannot read {}: {e}", file.path.display())))?;
    let disk_hash = crate::basic::content_hash(&on_disk);
    if !crate::workflow::same_secret(&disk_hash, base) {
        return Err(Error::Conflict(format!(
            "{} changed on disk since it was opened (its version is {}, the edit started from {}): open it again",
            file.path.display(),
            &disk_hash[..12],
            base.get(..12).unwrap_or(base)
        )));
    }
    // Written beside and renamed over, so that a reader never sees half a file.
    let tmp = file.path.with_extension("bas.saving");
    std::fs::write(&tmp, source)
        .and_then(|()| std::fs::rename(&tmp, &file.path))
        .map_err(|e| Error::Internal(format!("cannot write {}: {e}", file.path.display())))?;
    let reloaded = crate::bots::Package::load(&file.package.dir)
        .map_err(|e| Error::Internal(format!("saved, but the package does not load: {e}")))?;
    rt.load_packages(vec![reloaded])?;
    Ok(Saved {
        hash: crate::basic::content_hash(source),
        on_previous: running_on(rt, bot, script, &disk_hash)?,
    })
}

/// How many executions of `bot`'s `script` run (or wait) on the version whose hash is
/// `hash`.
pub fn running_on(rt: &Runtime, bot: &str, script: &str, hash: &str) -> Result<i64, Error> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Vec<N> = diesel::sql_query(
        "SELECT count(*) AS n FROM workflow_executions WHERE bot = $1 AND script = $2 \
         AND script_hash = $3 AND status IN ('running', 'waiting')",
    )
    .bind::<Text, _>(bot)
    .bind::<Text, _>(script.to_lowercase())
    .bind::<Text, _>(hash)
    .load(&mut *rt.conn()?)?;
    Ok(rows.first().map(|r| r.n).unwrap_or(0))
}

/// For each line of `source`, the node it belongs to (empty when none): the innermost
/// node whose lines hold it (the one of fewest lines).
pub fn line_nodes(g: &Graph, source: &str) -> Vec<String> {
    source
        .lines()
        .enumerate()
        .map(|(i, _)| {
            let n = (i + 1) as u32;
            g.nodes
                .iter()
                .filter(|nd| nd.lines[0] <= n && n <= nd.lines[1])
                .min_by_key(|nd| nd.lines[1] - nd.lines[0])
                .map(|nd| nd.id.clone())
                .unwrap_or_default()
        })
        .collect()
}

/// A text as edited, before it is saved: its diagnostics, and its graph when it parses
/// (else why it does not).
pub struct Preview {
    /// The text.
    pub source: String,
    /// `check`'s diagnostics, as [`diagnostics`] gives them.
    pub diagnostics: Vec<Value>,
    /// The graph of the text, when it parses.
    pub graph: Option<Graph>,
    /// Why it does not parse (the first error, with its line and column).
    pub parse_error: Option<String>,
}

/// `edits` applied to `source` (the script as loaded when `None`), checked and drawn; an
/// edit that does not apply is a 400 saying why.
pub fn preview(
    rt: &Runtime,
    bot: &str,
    script: &str,
    source: Option<String>,
    edits: &[edit::Edit],
) -> Result<Preview, Error> {
    // The script as loaded need not parse: the page opens it to be mended.
    let source = match source {
        Some(s) => s,
        None => loaded(rt, bot, script)?.source,
    };
    if source.len() > rt.config.limits.max_script_bytes {
        return Err(Error::TooLarge(format!(
            "the script is {} bytes; at most {} are allowed",
            source.len(),
            rt.config.limits.max_script_bytes
        )));
    }
    let source = if edits.is_empty() {
        source
    } else {
        edit::apply(&source, edits, &edit::parse_graph).map_err(Error::BadRequest)?
    };
    let diagnostics = diagnostics(rt, &source);
    let (graph, parse_error) = match edit::parse_graph(&source) {
        Ok(g) => (Some(g), None),
        Err(m) => (None, Some(m)),
    };
    Ok(Preview {
        source,
        diagnostics,
        graph,
        parse_error,
    })
}

/// The graph of an edited text drawn for editing: the edges a step can be dropped on
/// carry their place, a node holding an error (or a warning) of `diagnostics` is marked
/// `d-error` (`d-warning`), and the first node of each step of `at` has a badge with its
/// count of running executions.
pub fn editing_svg(
    g: &Graph,
    source: &str,
    diagnostics: &[Value],
    at: &HashMap<String, i64>,
) -> String {
    let owner = line_nodes(g, source);
    // A step's count goes on its first node only.
    let mut badged = std::collections::HashSet::new();
    let badges: Vec<Option<String>> = g
        .nodes
        .iter()
        .map(|n| {
            let s = n.step.as_ref()?;
            let k = at.get(s)?;
            badged.insert(s.clone()).then(|| k.to_string())
        })
        .collect();
    let mut marks: HashMap<String, &'static str> = HashMap::new();
    for d in diagnostics {
        let line = d["line"].as_u64().unwrap_or(0) as usize;
        let Some(id) = line.checked_sub(1).and_then(|i| owner.get(i)) else {
            continue;
        };
        if id.is_empty() {
            continue;
        }
        let class = if d["severity"] == "error" {
            "d-error"
        } else {
            "d-warning"
        };
        let e = marks.entry(id.clone()).or_insert(class);
        if class == "d-error" {
            *e = class;
        }
    }
    let drops = edit::edge_places(g, source);
    layout::svg_with_drops(
        g,
        &|i| marks.get(&g.nodes[i].id).map(|c| c.to_string()),
        &|i| badges[i].clone(),
        &|k| drops[k].as_ref().map(|(how, id)| format!("{how}:{id}")),
    )
}

/// One line of a diff: `" "` kept, `"-"` removed, `"+"` added, with its line number in
/// the old or the new text.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DiffLine {
    /// `" "`, `"-"` or `"+"`.
    pub tag: &'static str,
    /// Its number in the old text (kept and removed lines).
    pub old: Option<usize>,
    /// Its number in the new text (kept and added lines).
    pub new: Option<usize>,
    /// The line, without its ending.
    pub text: String,
}

/// The lines that differ between `old` and `new`, each with up to `context` unchanged
/// lines around it (a gap between hunks is a line tagged `"…"`).
pub fn diff(old: &str, new: &str, context: usize) -> Vec<DiffLine> {
    let d = similar::TextDiff::from_lines(old, new);
    let mut out = Vec::new();
    for (k, group) in d.grouped_ops(context).iter().enumerate() {
        if k > 0 {
            out.push(DiffLine {
                tag: "…",
                old: None,
                new: None,
                text: String::new(),
            });
        }
        for op in group {
            for change in d.iter_changes(op) {
                let tag = match change.tag() {
                    similar::ChangeTag::Equal => " ",
                    similar::ChangeTag::Delete => "-",
                    similar::ChangeTag::Insert => "+",
                };
                out.push(DiffLine {
                    tag,
                    old: change.old_index().map(|i| i + 1),
                    new: change.new_index().map(|i| i + 1),
                    text: change.value().trim_end_matches(['\n', '\r']).to_string(),
                });
            }
        }
    }
    out
}
