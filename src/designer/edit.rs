//! Edits of the graph as edits of the text: each one replaces, inserts or removes whole
//! lines of the node it concerns and leaves every other byte of the file as it was
//! (comments, blank lines, line endings of untouched lines).
//!
//! - `insert`: a new step after a node (its last line) or before one (its first line),
//!   indented like that node, with a step label no other step of the file has;
//! - `set`: one property of a node (`bot`, `task`, `approver`, `timeout`, `escalate`,
//!   `event`, `seconds`): a text written as a literal on the node's first line is
//!   replaced in place; otherwise the node's lines are written again from its
//!   properties, after the same prefix (`  STEP 3: `, `    BRANCH A: `);
//! - `delete`: the node's lines go;
//! - `move`: the node's lines go after another node, indented like it.
//!
//! Edits apply in order, each to the text the previous one left, with node ids of the
//! graph of that text.

use serde::Deserialize;

use super::graph::{graph, Graph, Node, NodeKind};

/// A new step's kind and properties.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewStep {
    /// `bot`, `approval`, `wait_event`, `delay` or `publish`.
    pub kind: String,
    #[serde(default)]
    bot: String,
    #[serde(default)]
    task: String,
    #[serde(default)]
    approver: String,
    #[serde(default)]
    timeout: Option<f64>,
    #[serde(default)]
    escalate: Vec<String>,
    #[serde(default)]
    event: String,
    #[serde(default)]
    seconds: Option<f64>,
}

/// One edit.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Edit {
    /// A new step after `after`, or before `before` (one of the two).
    Insert {
        /// The node it follows.
        #[serde(default)]
        after: Option<String>,
        /// The node it goes before (at its first line, indented like it).
        #[serde(default)]
        before: Option<String>,
        /// What it is.
        step: NewStep,
    },
    /// One property of a node.
    Set {
        /// The node.
        node: String,
        /// The property.
        field: String,
        /// Its new value (a number for `timeout` and `seconds`, a list or a
        /// comma-separated text for `escalate`).
        value: serde_json::Value,
    },
    /// A node's lines removed.
    Delete {
        /// The node.
        node: String,
    },
    /// A node's lines moved after another node.
    Move {
        /// The node.
        node: String,
        /// The node it will follow.
        after: String,
    },
}

/// The kinds of nodes an edit may set, delete or move (whole statements of their own).
fn editable(kind: NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Bot
            | NodeKind::Approval
            | NodeKind::WaitEvent
            | NodeKind::Delay
            | NodeKind::Publish
    )
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// The statement of a step (without its `STEP n: ` prefix), over one or more lines; the
/// lines after the first are indented by `indent`.
fn statement(s: &NewStep, indent: &str) -> Result<Vec<String>, String> {
    let mut lines = match s.kind.as_str() {
        "bot" => vec![format!("BOT {} {}", quote(&s.bot), quote(&s.task))],
        "approval" => {
            let mut l = vec![format!("HUMAN APPROVAL FROM {}", quote(&s.approver))];
            if let Some(t) = s.timeout {
                l.push(format!("{indent}TIMEOUT {}", number(t)));
            }
            if !s.escalate.is_empty() {
                let to: Vec<String> = s.escalate.iter().map(|e| quote(e)).collect();
                l.push(format!("{indent}ON TIMEOUT: ESCALATE TO {}", to.join(", ")));
            }
            l
        }
        "wait_event" => {
            let mut l = format!("WAIT FOR EVENT {}", quote(&s.event));
            if let Some(t) = s.timeout {
                l.push_str(&format!(" TIMEOUT {}", number(t)));
            }
            vec![l]
        }
        "delay" => vec![format!("DELAY {}", number(s.seconds.unwrap_or(1.0)))],
        "publish" => vec![format!("PUBLISH EVENT {}", quote(&s.event))],
        other => {
            return Err(format!(
                "a step's kind must be bot, approval, wait_event, delay or publish, not \"{other}\""
            ))
        }
    };
    if lines.is_empty() {
        lines.push(String::new());
    }
    Ok(lines)
}

/// A node's properties as a [`NewStep`] (from its details).
fn as_step(node: &Node) -> NewStep {
    let get = |k: &str| {
        node.detail
            .iter()
            .find(|(dk, _)| dk == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let kind = match node.kind {
        NodeKind::Bot => "bot",
        NodeKind::Approval => "approval",
        NodeKind::WaitEvent => "wait_event",
        NodeKind::Delay => "delay",
        NodeKind::Publish => "publish",
        _ => "",
    };
    NewStep {
        kind: kind.to_string(),
        bot: get("bot"),
        task: get("task"),
        approver: get("approver"),
        timeout: get("timeout").parse().ok(),
        escalate: get("escalate")
            .split('→')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        event: if kind == "wait_event" {
            get("events")
        } else {
            get("event")
        },
        seconds: get("seconds").parse().ok(),
    }
}

/// The text split into lines, each with its line ending, so that joining them gives the
/// text back byte for byte.
fn split_lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

fn ending_of(line: &str) -> &str {
    if line.ends_with("\r\n") {
        "\r\n"
    } else if line.ends_with('\n') {
        "\n"
    } else {
        ""
    }
}

fn indent_of(line: &str) -> String {
    line.chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// Where a node's statement starts on its first line: after `STEP n: ` or `BRANCH x: `,
/// or at its first non-blank character.
fn prefix_len(line: &str) -> usize {
    let indent = indent_of(line).len();
    let rest = &line[indent..];
    let upper = rest.to_ascii_uppercase();
    if upper.starts_with("STEP ") || upper.starts_with("BRANCH ") {
        if let Some(colon) = rest.find(':') {
            let after = &rest[colon + 1..];
            let spaces = after.len() - after.trim_start().len();
            return indent + colon + 1 + spaces;
        }
    }
    indent
}

fn node<'g>(g: &'g Graph, id: &str) -> Result<&'g Node, String> {
    g.nodes
        .iter()
        .find(|n| n.id == id)
        .ok_or_else(|| format!("the graph has no node '{id}'"))
}

/// A step label no `STEP` of the file has: one more than the largest number among them.
fn free_label(g: &Graph) -> String {
    let top = g
        .nodes
        .iter()
        .filter_map(|n| n.step.as_deref())
        .filter_map(|s| s.parse::<i64>().ok())
        .max()
        .unwrap_or(0);
    (top + 1).to_string()
}

/// Where new lines go after node `after`, and their indentation: a fork or a step head
/// takes them inside (before its first child), anything else after its last line.
fn insertion(lines: &[String], after: &Node) -> Result<(usize, String), String> {
    let first = lines
        .get(after.lines[0] as usize - 1)
        .map(String::as_str)
        .unwrap_or("");
    let ind = indent_of(first);
    match after.kind {
        NodeKind::End => Err("nothing can follow the end; insert after the last step".into()),
        NodeKind::Step | NodeKind::Parallel => Err(format!(
            "a step cannot go between {} and what it holds; insert after one of its steps",
            after.label
        )),
        // After a fork's join: after its closing line, at the fork's own indentation.
        NodeKind::Join => Ok((
            after.lines[1] as usize,
            indent_of(
                lines
                    .get(after.lines[1] as usize - 1)
                    .map(String::as_str)
                    .unwrap_or(""),
            ),
        )),
        NodeKind::If | NodeKind::Loop | NodeKind::Start => {
            if after.lines[0] == after.lines[1] && after.kind != NodeKind::Start {
                return Err(format!(
                    "'{}' is on one line; nothing can go inside it",
                    after.label
                ));
            }
            // Inside, first: after its own first line, one level deeper.
            Ok((after.lines[0] as usize, format!("{ind}  ")))
        }
        _ => {
            if first[prefix_len(first).min(first.len())..].is_empty()
                || first
                    .trim_start()
                    .to_ascii_uppercase()
                    .starts_with("BRANCH ")
            {
                return Err(format!(
                    "'{}' is a branch of a PARALLEL, which holds one line; insert after the PARALLEL's join",
                    after.label
                ));
            }
            Ok((after.lines[1] as usize, ind))
        }
    }
}

/// Where new lines go before node `before`: at its first line, indented like it. Only
/// a statement of its own can have a step put before it (not a fork's join, the end, or
/// a `BRANCH` of a `PARALLEL`, which holds one line).
fn insertion_before(lines: &[String], before: &Node) -> Result<(usize, String), String> {
    let first = lines
        .get(before.lines[0] as usize - 1)
        .map(String::as_str)
        .unwrap_or("");
    let branch = first
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("BRANCH ");
    match before.kind {
        NodeKind::Start | NodeKind::End | NodeKind::Join => Err(format!(
            "a step cannot go before {}; insert after the step before it",
            before.label
        )),
        _ if branch => Err(format!(
            "'{}' is a branch of a PARALLEL, which holds one line; insert before the PARALLEL",
            before.label
        )),
        _ => Ok((before.lines[0] as usize - 1, indent_of(first))),
    }
}

/// Where a step dropped on each edge of `g` goes (in the order of `g.edges`), as the
/// edit that puts it there (`after` or `before` with a node id): after the edge's upper
/// node when that is a step of its own (or a fork's join), else before its lower node;
/// `None` when neither can hold it (an edge into or out of a `PARALLEL`'s branches, an
/// empty `ELSE`).
pub fn edge_places(g: &Graph, source: &str) -> Vec<Option<(&'static str, String)>> {
    let lines = split_lines(source);
    g.edges
        .iter()
        .map(|&(a, b)| {
            let (na, nb) = (&g.nodes[a], &g.nodes[b]);
            let after_fits = match na.kind {
                NodeKind::If
                | NodeKind::Loop
                | NodeKind::Start
                | NodeKind::Step
                | NodeKind::Parallel => false,
                _ => insertion(&lines, na).is_ok(),
            };
            if after_fits {
                return Some(("after", na.id.clone()));
            }
            // Before `b` only when `b` starts a line of its own (not the body of a
            // one-line IF).
            if nb.lines[0] <= na.lines[1] {
                return None;
            }
            insertion_before(&lines, nb)
                .ok()
                .map(|_| ("before", nb.id.clone()))
        })
        .collect()
}

/// Applies `edits` to `source` in order; the new text, or what is wrong with an edit.
pub fn apply(
    source: &str,
    edits: &[Edit],
    parse: &dyn Fn(&str) -> Result<Graph, String>,
) -> Result<String, String> {
    let mut text = source.to_string();
    for (i, e) in edits.iter().enumerate() {
        let g = parse(&text).map_err(|m| format!("edit {}: {m}", i + 1))?;
        text =
            apply_one(&text, &g, e).map_err(|m| format!("edit {} ({}): {m}", i + 1, op_name(e)))?;
    }
    Ok(text)
}

fn op_name(e: &Edit) -> &'static str {
    match e {
        Edit::Insert { .. } => "insert",
        Edit::Set { .. } => "set",
        Edit::Delete { .. } => "delete",
        Edit::Move { .. } => "move",
    }
}

fn apply_one(text: &str, g: &Graph, e: &Edit) -> Result<String, String> {
    let mut lines = split_lines(text);
    let eol = lines
        .first()
        .map(|l| ending_of(l))
        .filter(|e| !e.is_empty())
        .unwrap_or("\n")
        .to_string();
    match e {
        Edit::Insert {
            after,
            before,
            step,
        } => {
            let (at, ind) = match (after, before) {
                (Some(a), None) => insertion(&lines, node(g, a)?)?,
                (None, Some(b)) => insertion_before(&lines, node(g, b)?)?,
                _ => return Err("an insert names either 'after' or 'before' (one node)".into()),
            };
            let body = statement(step, &format!("{ind}  "))?;
            let mut new: Vec<String> = Vec::new();
            for (k, l) in body.iter().enumerate() {
                if k == 0 {
                    new.push(format!("{ind}STEP {}: {l}{eol}", free_label(g)));
                } else {
                    new.push(format!("{l}{eol}"));
                }
            }
            if at > 0 && at <= lines.len() && ending_of(&lines[at - 1]).is_empty() {
                lines[at - 1].push_str(&eol);
            }
            let at = at.min(lines.len());
            lines.splice(at..at, new);
        }
        Edit::Set {
            node: id,
            field,
            value,
        } => {
            let n = node(g, id)?;
            if !editable(n.kind) {
                return Err(format!(
                    "'{id}' is a {:?} node, which has no properties to set",
                    n.kind
                ));
            }
            let mut step = as_step(n);
            let text_of = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let num = |v: &serde_json::Value| -> Result<Option<f64>, String> {
                match v {
                    serde_json::Value::Null => Ok(None),
                    serde_json::Value::Number(n) => Ok(n.as_f64()),
                    serde_json::Value::String(s) if s.trim().is_empty() => Ok(None),
                    serde_json::Value::String(s) => s
                        .trim()
                        .parse()
                        .map(Some)
                        .map_err(|_| format!("'{field}' must be a number, not \"{s}\"")),
                    other => Err(format!("'{field}' must be a number, not {other}")),
                }
            };
            match field.as_str() {
                "bot" => step.bot = text_of(value),
                "task" => step.task = text_of(value),
                "approver" => step.approver = text_of(value),
                "event" => step.event = text_of(value),
                "timeout" => step.timeout = num(value)?,
                "seconds" => step.seconds = num(value)?,
                "escalate" => {
                    step.escalate = match value {
                        serde_json::Value::Array(a) => a.iter().map(text_of).collect(),
                        v => text_of(v).split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
                    }
                }
                other => return Err(format!("no property '{other}' (bot, task, approver, timeout, escalate, event, seconds)")),
            }
            // A text property written as a literal on the node's first line is replaced
            // in place: the rest of its lines (other clauses, comments) stay as they are.
            let literal = match (n.kind, field.as_str()) {
                (NodeKind::Bot, "bot") | (NodeKind::Approval, "approver") => Some(0),
                (NodeKind::Bot, "task") => Some(1),
                (NodeKind::WaitEvent | NodeKind::Publish, "event") => Some(0),
                _ => None,
            };
            if let Some(k) = literal {
                let at = n.lines[0] as usize - 1;
                let line = &lines[at];
                let from = prefix_len(line).min(line.len());
                if let Some((a, b)) = string_literals(&line[from..]).get(k).copied() {
                    let new_value = text_of(value);
                    lines[at] = format!(
                        "{}{}{}",
                        &line[..from + a],
                        quote(&new_value),
                        &line[from + b..]
                    );
                    return Ok(lines.concat());
                }
            }
            // So is a number written after its keyword (`TIMEOUT 60`, `DELAY 5`).
            let keyword = match (n.kind, field.as_str()) {
                (NodeKind::Approval | NodeKind::WaitEvent, "timeout") => Some("TIMEOUT"),
                (NodeKind::Delay, "seconds") => Some("DELAY"),
                _ => None,
            };
            let new_number = match field.as_str() {
                "timeout" => step.timeout,
                _ => step.seconds,
            };
            if let (Some(word), Some(v)) = (keyword, new_number) {
                for at in n.lines[0] as usize - 1..n.lines[1] as usize {
                    let line = &lines[at];
                    let from = if at + 1 == n.lines[0] as usize {
                        prefix_len(line).min(line.len())
                    } else {
                        0
                    };
                    let words: &[&str] = if word == "DELAY" {
                        &["DELAY", "WAIT"]
                    } else {
                        &[word]
                    };
                    if let Some((a, b)) = words.iter().find_map(|w| number_after(&line[from..], w))
                    {
                        lines[at] =
                            format!("{}{}{}", &line[..from + a], number(v), &line[from + b..]);
                        return Ok(lines.concat());
                    }
                }
            }
            let first = &lines[n.lines[0] as usize - 1];
            let prefix = first[..prefix_len(first)].to_string();
            let ind = format!("{}  ", indent_of(first));
            let body = statement(&step, &ind)?;
            let last_eol = ending_of(&lines[n.lines[1] as usize - 1]).to_string();
            let count = body.len();
            let new: Vec<String> = body
                .into_iter()
                .enumerate()
                .map(|(k, l)| {
                    let end = if k + 1 == count {
                        last_eol.clone()
                    } else {
                        eol.clone()
                    };
                    if k == 0 {
                        format!("{prefix}{l}{end}")
                    } else {
                        format!("{l}{end}")
                    }
                })
                .collect();
            lines.splice(n.lines[0] as usize - 1..n.lines[1] as usize, new);
        }
        Edit::Delete { node: id } => {
            let n = node(g, id)?;
            if !editable(n.kind) {
                return Err(format!(
                    "'{id}' is a {:?} node; only steps can be deleted",
                    n.kind
                ));
            }
            lines.drain(n.lines[0] as usize - 1..n.lines[1] as usize);
        }
        Edit::Move { node: id, after } => {
            let n = node(g, id)?;
            if !editable(n.kind) {
                return Err(format!(
                    "'{id}' is a {:?} node; only steps can be moved",
                    n.kind
                ));
            }
            let head = lines
                .get(n.lines[0] as usize - 1)
                .map(|l| l.trim_start().to_ascii_uppercase())
                .unwrap_or_default();
            if head.starts_with("BRANCH ") {
                return Err(format!(
                    "'{}' is a branch of a PARALLEL; it cannot leave it (delete it, or edit the PARALLEL's text)",
                    n.label
                ));
            }
            let target = node(g, after)?;
            if target.lines[0] >= n.lines[0] && target.lines[1] <= n.lines[1] {
                return Err("a step cannot move after itself".into());
            }
            let (at, ind) = insertion(&lines, target)?;
            let (a, b) = (n.lines[0] as usize - 1, n.lines[1] as usize);
            let old_ind = indent_of(&lines[a]);
            let mut moved: Vec<String> = lines[a..b]
                .iter()
                .map(|l| match l.strip_prefix(old_ind.as_str()) {
                    Some(rest) => format!("{ind}{rest}"),
                    None => l.clone(),
                })
                .collect();
            if let Some(last) = moved.last_mut() {
                if ending_of(last).is_empty() {
                    last.push_str(&eol);
                }
            }
            if at > 0 && at <= lines.len() && ending_of(&lines[at - 1]).is_empty() {
                lines[at - 1].push_str(&eol);
            }
            if at <= a {
                lines.drain(a..b);
                lines.splice(at..at, moved);
            } else {
                let at = at.min(lines.len());
                lines.splice(at..at, moved);
                lines.drain(a..b);
            }
        }
    }
    Ok(lines.concat())
}

/// The byte ranges of the string literals of a line (`"…"`, a doubled `""` inside one),
/// up to a comment.
fn string_literals(line: &str) -> Vec<(usize, usize)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => break,
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match b.get(i) {
                        None => return out,
                        Some(b'"') if b.get(i + 1) == Some(&b'"') => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                    }
                }
                out.push((start, i + 1));
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// The byte range of the number literal right after the word `word` (whole word, any
/// case) in `line`, outside strings and comments; `None` when the word is not there or is
/// followed by something else (an expression is written again, not patched).
fn number_after(line: &str, word: &str) -> Option<(usize, usize)> {
    let upper = line.to_ascii_uppercase();
    let strings = string_literals(line);
    let comment = comment_start(line);
    let mut search = 0;
    while let Some(k) = upper[search..].find(word) {
        let at = search + k;
        search = at + word.len();
        let before_ok = at == 0 || !upper.as_bytes()[at - 1].is_ascii_alphanumeric();
        let after = at + word.len();
        let after_ok = upper.as_bytes().get(after) == Some(&b' ');
        let in_string = strings.iter().any(|(a, b)| *a <= at && at < *b);
        if !before_ok || !after_ok || in_string || comment.is_some_and(|c| at >= c) {
            continue;
        }
        let rest = &line[after..];
        let start = after + (rest.len() - rest.trim_start().len());
        let digits = line[start..]
            .bytes()
            .take_while(|c| c.is_ascii_digit() || *c == b'.')
            .count();
        if digits == 0 {
            return None;
        }
        let end = start + digits;
        // Only a literal standing alone: `TIMEOUT 60` or `TIMEOUT 60 ' …`, not `60 * n`.
        let tail = line[end..].trim_start();
        let alone = tail.is_empty()
            || tail.starts_with('\'')
            || tail.starts_with(':')
            || tail.to_ascii_uppercase().starts_with("ON ")
            || tail.to_ascii_uppercase().starts_with("ESCALATE")
            || tail.to_ascii_uppercase().starts_with("REM");
        return alone.then_some((start, end));
    }
    None
}

/// Where a line's comment starts (a `'` outside strings), if it has one.
fn comment_start(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut in_string = false;
    for (i, c) in b.iter().enumerate() {
        match c {
            b'"' => in_string = !in_string,
            b'\'' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

/// The graph of `text` through the compiler's front end (for [`apply`]).
pub fn parse_graph(text: &str) -> Result<Graph, String> {
    let limits = crate::basic::engine::Limits::default();
    crate::basic::parse_source(text, &limits)
        .map(|s| graph(&s, text))
        .map_err(|d| {
            d.0.first()
                .map(|d| {
                    format!(
                        "the text does not parse at {}:{}: {}",
                        d.span.line, d.span.col, d.message
                    )
                })
                .unwrap_or_else(|| "the text does not parse".into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literals_of_a_line() {
        let l = r#"STEP 1: BOT "a ""b""" "c" ' "not this""#;
        let found: Vec<&str> = string_literals(l).iter().map(|(a, b)| &l[*a..*b]).collect();
        assert_eq!(found, vec![r#""a ""b""""#, r#""c""#]);
    }

    #[test]
    fn setting_a_timeout_or_delay_replaces_its_number_only() {
        let src = "ORCHESTRATE WORKFLOW \"w\"\n  STEP 1: HUMAN APPROVAL FROM \"a@x\"\n    TIMEOUT 60 ' an hour\n    ON TIMEOUT: APPROVE WITH WARNING\n  STEP 2: DELAY 5\n  STEP 3: WAIT FOR EVENT \"go\" TIMEOUT 30\nEND WORKFLOW\n";
        let g = parse_graph(src).unwrap();
        let id = |k: NodeKind| g.nodes.iter().find(|n| n.kind == k).unwrap().id.clone();
        let set = |node: String, field: &str, v: serde_json::Value| {
            let e = Edit::Set {
                node,
                field: field.into(),
                value: v,
            };
            apply(src, &[e], &parse_graph).unwrap()
        };
        assert_eq!(
            set(id(NodeKind::Approval), "timeout", serde_json::json!(3600)),
            src.replace("TIMEOUT 60 '", "TIMEOUT 3600 '")
        );
        assert_eq!(
            set(id(NodeKind::Delay), "seconds", serde_json::json!("7")),
            src.replace("DELAY 5", "DELAY 7")
        );
        assert_eq!(
            set(id(NodeKind::WaitEvent), "timeout", serde_json::json!(45)),
            src.replace("TIMEOUT 30", "TIMEOUT 45")
        );
        assert_eq!(
            number_after("x = \"TIMEOUT 5\" ' TIMEOUT 6", "TIMEOUT"),
            None
        );
        assert_eq!(number_after("TIMEOUT n * 60", "TIMEOUT"), None);
    }

    #[test]
    fn setting_the_approver_keeps_the_other_clauses() {
        let src = "ORCHESTRATE WORKFLOW \"w\"\n  STEP 1: HUMAN APPROVAL FROM \"a@x\" ' who decides\n    TIMEOUT 60\n    ON TIMEOUT: APPROVE WITH WARNING\nEND WORKFLOW\n";
        let g = parse_graph(src).unwrap();
        let id = g
            .nodes
            .iter()
            .find(|n| n.kind == NodeKind::Approval)
            .unwrap()
            .id
            .clone();
        let e = Edit::Set {
            node: id,
            field: "approver".into(),
            value: serde_json::json!("b@y"),
        };
        let out = apply(src, &[e], &parse_graph).unwrap();
        assert_eq!(out, src.replace("\"a@x\"", "\"b@y\""));
    }
}
