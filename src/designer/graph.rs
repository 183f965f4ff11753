//! The graph of a script, computed from its syntax tree: the durable steps of its
//! `ORCHESTRATE WORKFLOW` (or of the whole script when it has none) as nodes, `IF` and
//! `PARALLEL` as forks with one arm per branch and a join, loops as a fork of one arm.
//! A workflow is a series-parallel structure, so the graph is a tree of sequences and
//! forks ([`Block`]), and its layout ([`super::layout`]) follows from that tree alone.
//!
//! Every node knows the source lines it stands for: from its statement's first line to
//! the line before the next statement of its block (or the end of the block), without
//! the blank, comment and block-closing lines at the end (`END IF`, `ELSE`, …).

use serde::Serialize;

use crate::basic::ast::{Expr, ExprKind, Script, ShareTarget, Stmt, StmtKind};

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// The workflow's start (its name).
    Start,
    /// Where it ends.
    End,
    /// A `STEP` whose body is not one of the kinds below.
    Step,
    /// `BOT "bot" "task"`.
    Bot,
    /// `HUMAN APPROVAL FROM …`.
    Approval,
    /// `WAIT FOR EVENT …`.
    WaitEvent,
    /// `DELAY` / `WAIT`.
    Delay,
    /// `PUBLISH EVENT …`.
    Publish,
    /// `BOT SHARE MEMORY …`.
    ShareMemory,
    /// `BOT SYNC MEMORY …`.
    SyncMemory,
    /// `RETURN …` inside the workflow.
    Return,
    /// An `IF`: one arm per condition (and `ELSE`).
    If,
    /// A `PARALLEL`: one arm per `BRANCH`.
    Parallel,
    /// A loop (`FOR`, `FOR EACH`, `WHILE`, `DO`): one arm, its body.
    Loop,
    /// Where the arms of a fork meet again.
    Join,
}

/// One node.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// Its id in the graph (`n0`, `n1`, … in source order).
    pub id: String,
    /// What it is.
    pub kind: NodeKind,
    /// What it says (the step, the bot and task, the approver, …).
    pub label: String,
    /// The first and last source lines it stands for (1-based, inclusive).
    pub lines: [u32; 2],
    /// The `STEP` it belongs to (its label), for an execution's step statuses.
    pub step: Option<String>,
    /// Details of its kind: `bot`, `task`, `approver`, `timeout`, `escalate`, `events`…
    pub detail: Vec<(String, String)>,
}

/// A sequence or a fork of the graph's tree.
#[derive(Debug, Clone)]
pub enum Block {
    /// One node (its index).
    Node(usize),
    /// One after the other.
    Seq(Vec<Block>),
    /// A fork node, its arms (each a caption and a block) and the join node.
    Fork {
        /// The fork node.
        head: usize,
        /// The arms, side by side.
        arms: Vec<(String, Block)>,
        /// The join node.
        join: usize,
    },
}

/// A script's graph: its nodes, the tree that orders them, and its edges.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Every node, in source order of their statements.
    pub nodes: Vec<Node>,
    /// The structure, from the start node to the end node.
    pub root: Block,
    /// Edges (from, to) as node indexes.
    pub edges: Vec<(usize, usize)>,
}

struct Builder<'a> {
    lines: Vec<&'a str>,
    nodes: Vec<Node>,
}

/// A line with nothing to run: blank, or a comment.
fn blank(line: &str) -> bool {
    let t = line.trim().to_ascii_uppercase();
    t.is_empty()
        || t.starts_with('\'')
        || t.starts_with("REM ")
        || t == "REM"
        || t.starts_with("//")
}

/// The words of a line that close or divide a block rather than do something.
fn closing(line: &str) -> bool {
    let t = line.trim().to_ascii_uppercase();
    blank(line)
        || t.starts_with("END")
        || t.starts_with("ELSE")
        || t.starts_with("NEXT")
        || t.starts_with("LOOP")
        || t.starts_with("WEND")
        || t.starts_with("CASE")
}

fn text(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Str(s) => s.clone(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => f.to_string(),
        ExprKind::Var(v) => v.clone(),
        ExprKind::Bool(b) => b.to_string().to_uppercase(),
        ExprKind::Member(base, m) => format!("{}.{m}", text(base)),
        _ => "…".into(),
    }
}

/// The `BOT` delegation of a statement, if it is one (`BOT "b" "t"` or `x = BOT …`).
fn delegation(s: &Stmt) -> Option<(&Expr, &Expr)> {
    let e = match &s.kind {
        StmtKind::Expr(e) => e,
        StmtKind::Assign { value, .. } => value,
        _ => return None,
    };
    match &e.kind {
        ExprKind::Delegate { bot, task } => Some((bot, task)),
        _ => None,
    }
}

impl<'a> Builder<'a> {
    fn line(&self, n: u32) -> &str {
        self.lines.get(n as usize - 1).copied().unwrap_or("")
    }

    /// The last line of a block statement starting at `from` and ending before `before`:
    /// its closing keyword's line (`END IF`, `END PARALLEL`, `NEXT`, …).
    fn block_end(&self, from: u32, before: u32) -> u32 {
        let mut end = before.saturating_sub(1).max(from);
        while end > from && blank(self.line(end)) {
            end -= 1;
        }
        end
    }

    /// The last line of a statement starting at `from` and ending before `before`.
    fn last_line(&self, from: u32, before: u32) -> u32 {
        let mut end = before.saturating_sub(1).max(from);
        while end > from && closing(self.line(end)) {
            end -= 1;
        }
        end
    }

    fn push(
        &mut self,
        kind: NodeKind,
        label: String,
        lines: [u32; 2],
        step: Option<&str>,
        detail: Vec<(String, String)>,
    ) -> usize {
        let i = self.nodes.len();
        self.nodes.push(Node {
            id: format!("n{i}"),
            kind,
            label,
            lines,
            step: step.map(str::to_string),
            detail,
        });
        i
    }

    /// The statements of a block ending before line `before`, as a sequence.
    fn body(&mut self, stmts: &[Stmt], before: u32, step: Option<&str>) -> Block {
        let mut items = Vec::new();
        for (i, s) in stmts.iter().enumerate() {
            let next = stmts.get(i + 1).map(|n| n.span.line).unwrap_or(before);
            if let Some(b) = self.stmt(s, next, step) {
                items.push(b);
            }
        }
        Block::Seq(items)
    }

    /// A leaf node of a statement, if it is one the graph shows.
    fn leaf(
        &mut self,
        s: &Stmt,
        lines: [u32; 2],
        step: Option<&str>,
        prefix: &str,
    ) -> Option<usize> {
        let d = |k: &str, v: String| (k.to_string(), v);
        let (kind, label, detail) = if let Some((bot, task)) = delegation(s) {
            (
                NodeKind::Bot,
                format!("BOT {} · {}", text(bot), text(task)),
                vec![d("bot", text(bot)), d("task", text(task))],
            )
        } else {
            match &s.kind {
                StmtKind::Approval {
                    who,
                    timeout,
                    escalate,
                    ..
                } => {
                    let mut detail = vec![d("approver", text(who))];
                    if let Some(t) = timeout {
                        detail.push(d("timeout", text(t)));
                    }
                    if !escalate.is_empty() {
                        detail.push(d(
                            "escalate",
                            escalate.iter().map(text).collect::<Vec<_>>().join(" → "),
                        ));
                    }
                    (
                        NodeKind::Approval,
                        format!("APPROVAL {}", text(who)),
                        detail,
                    )
                }
                StmtKind::WaitEvent { names, timeout, .. } => {
                    let names: Vec<String> = names.iter().map(text).collect();
                    let mut detail = vec![d("events", names.join(", "))];
                    if let Some(t) = timeout {
                        detail.push(d("timeout", text(t)));
                    }
                    (
                        NodeKind::WaitEvent,
                        format!("WAIT FOR {}", names.join(" or ")),
                        detail,
                    )
                }
                StmtKind::Sleep(e) => (
                    NodeKind::Delay,
                    format!("DELAY {}", text(e)),
                    vec![d("seconds", text(e))],
                ),
                StmtKind::Publish { name, .. } => (
                    NodeKind::Publish,
                    format!("PUBLISH {}", text(name)),
                    vec![d("event", text(name))],
                ),
                StmtKind::ShareMemory { key, target } => {
                    let to = match target {
                        ShareTarget::Bot(b) => text(b),
                        ShareTarget::All => "all bots".into(),
                    };
                    (
                        NodeKind::ShareMemory,
                        format!("SHARE {} → {to}", text(key)),
                        vec![d("key", text(key)), d("with", to)],
                    )
                }
                StmtKind::SyncMemory { from } => {
                    let from = from.as_ref().map(text).unwrap_or_else(|| "all".into());
                    (
                        NodeKind::SyncMemory,
                        format!("SYNC MEMORY from {from}"),
                        vec![d("from", from)],
                    )
                }
                StmtKind::Return(_) => (NodeKind::Return, "RETURN".into(), vec![]),
                _ => return None,
            }
        };
        Some(self.push(kind, format!("{prefix}{label}"), lines, step, detail))
    }

    fn stmt(&mut self, s: &Stmt, next: u32, step: Option<&str>) -> Option<Block> {
        let start = s.span.line;
        let end = self.last_line(start, next);
        let lines = [start, end];
        match &s.kind {
            StmtKind::Step { label, body, .. } => {
                let prefix = format!("{label} · ");
                // A step of one thing the graph shows is that thing, labelled with the step.
                let shown: Vec<&Stmt> = body.iter().filter(|b| self.shows(b)).collect();
                if shown.len() == 1
                    && !matches!(
                        shown[0].kind,
                        StmtKind::If { .. } | StmtKind::Parallel { .. }
                    )
                    && !is_loop(shown[0])
                {
                    let idx = self.leaf(shown[0], lines, Some(label), &prefix)?;
                    return Some(Block::Node(idx));
                }
                let head = self.push(
                    NodeKind::Step,
                    format!("STEP {label}"),
                    [start, start],
                    Some(label),
                    vec![],
                );
                let inner = self.body(body, self.block_end(start, next) + 1, Some(label));
                Some(Block::Seq(vec![Block::Node(head), inner]))
            }
            StmtKind::If { arms, otherwise } => {
                let end = self.block_end(start, next);
                let lines = [start, end];
                let head = self.push(
                    NodeKind::If,
                    self.line(start).trim().to_string(),
                    lines,
                    step,
                    vec![],
                );
                let mut out = Vec::new();
                let count = arms.len() + usize::from(otherwise.is_some());
                let starts: Vec<u32> = arms
                    .iter()
                    .map(|(c, _)| c.span.line)
                    .chain(
                        otherwise
                            .iter()
                            .filter_map(|o| o.first().map(|s| s.span.line.saturating_sub(1))),
                    )
                    .collect();
                for (i, (cond, body)) in arms.iter().enumerate() {
                    let before = starts
                        .get(i + 1)
                        .copied()
                        .filter(|_| i + 1 < count)
                        .unwrap_or(end);
                    let caption = if i == 0 {
                        "then".to_string()
                    } else {
                        format!("else if {}", self.line(cond.span.line).trim())
                    };
                    out.push((caption, self.body(body, before, step)));
                }
                match otherwise {
                    Some(o) => out.push(("else".into(), self.body(o, end, step))),
                    None => out.push(("else".into(), Block::Seq(vec![]))),
                }
                let join = self.push(NodeKind::Join, "end if".into(), [end, end], step, vec![]);
                Some(Block::Fork {
                    head,
                    arms: out,
                    join,
                })
            }
            StmtKind::Parallel { branches } => {
                let end = self.block_end(start, next);
                let lines = [start, end];
                let head = self.push(NodeKind::Parallel, "PARALLEL".into(), lines, step, vec![]);
                let mut out = Vec::new();
                for (i, b) in branches.iter().enumerate() {
                    let before = branches.get(i + 1).map(|n| n.span.line).unwrap_or(end);
                    let inner = self.body(&b.body, before, step);
                    out.push((format!("BRANCH {}", b.label), inner));
                }
                let join = self.push(NodeKind::Join, "join".into(), [end, end], step, vec![]);
                Some(Block::Fork {
                    head,
                    arms: out,
                    join,
                })
            }
            StmtKind::ForEach { body, .. }
            | StmtKind::For { body, .. }
            | StmtKind::While { body, .. }
            | StmtKind::DoLoop { body, .. } => {
                if !body.iter().any(|b| self.shows(b)) {
                    return None;
                }
                let end = self.block_end(start, next);
                let lines = [start, end];
                let head = self.push(
                    NodeKind::Loop,
                    self.line(start).trim().to_string(),
                    lines,
                    step,
                    vec![],
                );
                let inner = self.body(body, end, step);
                let join = self.push(NodeKind::Join, "loop".into(), [end, end], step, vec![]);
                Some(Block::Fork {
                    head,
                    arms: vec![("each".into(), inner)],
                    join,
                })
            }
            StmtKind::Try { body, handler, .. } => {
                let mut items = vec![self.body(body, next, step)];
                if !handler.is_empty() {
                    items.push(self.body(handler, next, step));
                }
                Some(Block::Seq(items))
            }
            _ => self.leaf(s, lines, step, "").map(Block::Node),
        }
    }

    /// Whether the graph shows this statement (or something inside it).
    fn shows(&self, s: &Stmt) -> bool {
        if delegation(s).is_some() {
            return true;
        }
        match &s.kind {
            StmtKind::Approval { .. }
            | StmtKind::WaitEvent { .. }
            | StmtKind::Sleep(_)
            | StmtKind::Publish { .. }
            | StmtKind::ShareMemory { .. }
            | StmtKind::SyncMemory { .. }
            | StmtKind::Return(_)
            | StmtKind::Step { .. }
            | StmtKind::Parallel { .. } => true,
            StmtKind::If { arms, otherwise } => {
                arms.iter().any(|(_, b)| b.iter().any(|s| self.shows(s)))
                    || otherwise.iter().flatten().any(|s| self.shows(s))
            }
            StmtKind::ForEach { body, .. }
            | StmtKind::For { body, .. }
            | StmtKind::While { body, .. }
            | StmtKind::DoLoop { body, .. }
            | StmtKind::Try { body, .. } => body.iter().any(|s| self.shows(s)),
            _ => false,
        }
    }
}

fn is_loop(s: &Stmt) -> bool {
    matches!(
        s.kind,
        StmtKind::ForEach { .. }
            | StmtKind::For { .. }
            | StmtKind::While { .. }
            | StmtKind::DoLoop { .. }
    )
}

/// The graph of `script` (parsed from `source`): of its first `ORCHESTRATE WORKFLOW`,
/// or of the whole script when it has none.
pub fn graph(script: &Script, source: &str) -> Graph {
    let lines: Vec<&str> = source.lines().collect();
    let total = lines.len() as u32;
    let mut b = Builder {
        lines,
        nodes: Vec::new(),
    };
    let workflow = script
        .body
        .iter()
        .enumerate()
        .find_map(|(i, s)| match &s.kind {
            StmtKind::Workflow { name, body } => Some((i, s, name, body)),
            _ => None,
        });
    let (start_node, inner, end_line) = match workflow {
        Some((i, s, name, body)) => {
            let next = script
                .body
                .get(i + 1)
                .map(|n| n.span.line)
                .unwrap_or(total + 1);
            let end = b.block_end(s.span.line, next);
            let start = b.push(
                NodeKind::Start,
                format!("WORKFLOW {}", text(name)),
                [s.span.line, s.span.line],
                None,
                vec![],
            );
            let inner = b.body(body, end, None);
            (start, inner, end)
        }
        None => {
            let start = b.push(NodeKind::Start, "start".into(), [1, 1], None, vec![]);
            let inner = b.body(&script.body, total + 1, None);
            (start, inner, total.max(1))
        }
    };
    let end = b.push(
        NodeKind::End,
        "end".into(),
        [end_line, end_line],
        None,
        vec![],
    );
    let root = Block::Seq(vec![Block::Node(start_node), inner, Block::Node(end)]);
    let mut edges = Vec::new();
    connect(&root, &mut edges);
    Graph {
        nodes: b.nodes,
        root,
        edges,
    }
}

/// The entry and exit nodes of a block (none for an empty sequence).
fn ends(block: &Block) -> Option<(usize, usize)> {
    match block {
        Block::Node(i) => Some((*i, *i)),
        Block::Fork { head, join, .. } => Some((*head, *join)),
        Block::Seq(items) => {
            let first = items.iter().find_map(ends)?;
            let last = items.iter().rev().find_map(ends)?;
            Some((first.0, last.1))
        }
    }
}

fn connect(block: &Block, edges: &mut Vec<(usize, usize)>) {
    match block {
        Block::Node(_) => {}
        Block::Seq(items) => {
            let mut prev: Option<usize> = None;
            for item in items {
                connect(item, edges);
                if let Some((entry, exit)) = ends(item) {
                    if let Some(p) = prev {
                        edges.push((p, entry));
                    }
                    prev = Some(exit);
                }
            }
        }
        Block::Fork { head, arms, join } => {
            for (_, arm) in arms {
                connect(arm, edges);
                match ends(arm) {
                    Some((entry, exit)) => {
                        edges.push((*head, entry));
                        edges.push((exit, *join));
                    }
                    None => edges.push((*head, *join)),
                }
            }
        }
    }
}
