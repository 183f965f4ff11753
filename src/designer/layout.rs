//! Lays a [`Graph`] out and draws it as SVG. The graph is series-parallel, so the
//! layout is a recursion over its tree: a sequence stacks its items, a fork puts its
//! arms side by side between its head and its join. The same graph always gets the
//! same drawing, and nothing but the tree decides where a node goes.

use std::collections::HashMap;
use std::fmt::Write;

use super::graph::{Block, Graph, NodeKind};

const NODE_W: f64 = 230.0;
const NODE_H: f64 = 40.0;
const JOIN_H: f64 = 16.0;
const GAP_Y: f64 = 26.0;
const GAP_X: f64 = 24.0;
const MARGIN: f64 = 16.0;

/// Where a node is: its centre and size.
#[derive(Debug, Clone, Copy, Default)]
pub struct Place {
    /// Centre x.
    pub x: f64,
    /// Top y.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

fn node_h(g: &Graph, i: usize) -> f64 {
    match g.nodes[i].kind {
        NodeKind::Join => JOIN_H,
        _ => NODE_H,
    }
}

/// The width and height a block needs.
fn size(g: &Graph, b: &Block) -> (f64, f64) {
    match b {
        Block::Node(i) => (NODE_W, node_h(g, *i)),
        Block::Seq(items) => {
            let sizes: Vec<(f64, f64)> = items
                .iter()
                .map(|i| size(g, i))
                .filter(|s| s.1 > 0.0)
                .collect();
            let w = sizes.iter().map(|s| s.0).fold(0.0, f64::max);
            let h = sizes.iter().map(|s| s.1).sum::<f64>()
                + GAP_Y * (sizes.len().saturating_sub(1)) as f64;
            (w, h)
        }
        Block::Fork { head, arms, join } => {
            let sizes: Vec<(f64, f64)> = arms
                .iter()
                .map(|(_, a)| size(g, a))
                .map(|(w, h)| (w.max(NODE_W * 0.5), h))
                .collect();
            let arms_w = sizes.iter().map(|s| s.0).sum::<f64>()
                + GAP_X * (sizes.len().saturating_sub(1)) as f64;
            let arms_h = sizes.iter().map(|s| s.1).fold(0.0, f64::max);
            (
                arms_w.max(NODE_W),
                node_h(g, *head) + GAP_Y * 2.0 + arms_h + node_h(g, *join),
            )
        }
    }
}

/// Where things go: each node's place, and for each fork head the x of its empty arms
/// (their edge from the head to the join runs there, not across the other arms).
struct Placed {
    nodes: Vec<Place>,
    empty_arms: HashMap<usize, Vec<f64>>,
}

fn place(g: &Graph, b: &Block, left: f64, top: f64, width: f64, out: &mut Placed) {
    match b {
        Block::Node(i) => {
            let w = if g.nodes[*i].kind == NodeKind::Join {
                16.0
            } else {
                NODE_W
            };
            out.nodes[*i] = Place {
                x: left + width / 2.0,
                y: top,
                w,
                h: node_h(g, *i),
            };
        }
        Block::Seq(items) => {
            let mut y = top;
            for item in items {
                let (_, h) = size(g, item);
                if h <= 0.0 {
                    continue;
                }
                place(g, item, left, y, width, out);
                y += h + GAP_Y;
            }
        }
        Block::Fork { head, arms, join } => {
            let (_, total_h) = size(g, b);
            place(g, &Block::Node(*head), left, top, width, out);
            let sizes: Vec<(f64, f64)> = arms
                .iter()
                .map(|(_, a)| size(g, a))
                .map(|(w, h)| (w.max(NODE_W * 0.5), h))
                .collect();
            let arms_w = sizes.iter().map(|s| s.0).sum::<f64>()
                + GAP_X * (sizes.len().saturating_sub(1)) as f64;
            let mut x = left + (width - arms_w).max(0.0) / 2.0;
            let arms_top = top + node_h(g, *head) + GAP_Y;
            for ((_, arm), (w, h)) in arms.iter().zip(&sizes) {
                if *h <= 0.0 {
                    out.empty_arms.entry(*head).or_default().push(x + w / 2.0);
                }
                place(g, arm, x, arms_top, *w, out);
                x += w + GAP_X;
            }
            place(
                g,
                &Block::Node(*join),
                left,
                top + total_h - node_h(g, *join),
                width,
                out,
            );
        }
    }
}

/// Every node's place, and the drawing's width and height.
pub fn layout(g: &Graph) -> (Vec<Place>, f64, f64) {
    let (p, w, h) = placed(g);
    (p.nodes, w, h)
}

fn placed(g: &Graph) -> (Placed, f64, f64) {
    let (w, h) = size(g, &g.root);
    let mut out = Placed {
        nodes: vec![Place::default(); g.nodes.len()],
        empty_arms: HashMap::new(),
    };
    place(g, &g.root, MARGIN, MARGIN, w, &mut out);
    (out, w + 2.0 * MARGIN, h + 2.0 * MARGIN)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The graph as SVG; `status(i)` gives a node's status class, if any (an execution's
/// step status, or a count of executions at it).
pub fn svg(
    g: &Graph,
    status: &dyn Fn(usize) -> Option<String>,
    badge: &dyn Fn(usize) -> Option<String>,
) -> String {
    svg_with_drops(g, status, badge, &|_| None)
}

/// [`svg`] with the edges a step can be dropped on: `drop(k)` gives the place a step
/// dropped on edge `k` of `g.edges` goes (`after:n3`, `before:n5`), drawn as a wide
/// invisible path (`edge-hit`, its place in `data-drop`) over the edge.
pub fn svg_with_drops(
    g: &Graph,
    status: &dyn Fn(usize) -> Option<String>,
    badge: &dyn Fn(usize) -> Option<String>,
    drop: &dyn Fn(usize) -> Option<String>,
) -> String {
    let (placed, w, h) = placed(g);
    let places = &placed.nodes;
    let mut empty_seen: HashMap<usize, usize> = HashMap::new();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="graph" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-label="the workflow's graph">"#
    );
    for (k, (a, b)) in g.edges.iter().enumerate() {
        let (p, q) = (places[*a], places[*b]);
        let (x1, y1, x2, y2) = (p.x, p.y + p.h, q.x, q.y);
        // A fork's edge straight to its join stands for an empty arm: it runs down that
        // arm's column.
        let via = (g.nodes[*b].kind == NodeKind::Join)
            .then(|| placed.empty_arms.get(a))
            .flatten()
            .and_then(|xs| {
                let k = empty_seen.entry(*a).or_insert(0);
                *k += 1;
                xs.get(*k - 1).copied()
            });
        let d = match via {
            Some(vx) => {
                let (ya, yb) = (y1 + GAP_Y / 2.0, y2 - GAP_Y / 2.0);
                format!("M{x1:.1} {y1:.1} C{x1:.1} {ya:.1} {vx:.1} {y1:.1} {vx:.1} {ya:.1} L{vx:.1} {yb:.1} C{vx:.1} {y2:.1} {x2:.1} {yb:.1} {x2:.1} {y2:.1}")
            }
            None => {
                let mid = (y1 + y2) / 2.0;
                format!("M{x1:.1} {y1:.1} C{x1:.1} {mid:.1} {x2:.1} {mid:.1} {x2:.1} {y2:.1}")
            }
        };
        let (from, to) = (&g.nodes[*a].id, &g.nodes[*b].id);
        let _ = write!(
            s,
            r#"<path class="edge" data-from="{from}" data-to="{to}" d="{d}"/>"#
        );
        if let Some(place) = drop(k) {
            let _ = write!(
                s,
                r#"<path class="edge-hit" data-from="{from}" data-to="{to}" data-drop="{}" d="{d}"><title>drop a step here</title></path>"#,
                esc(&place)
            );
        }
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let p = places[i];
        let st = status(i).unwrap_or_default();
        let kind = serde_json::to_value(n.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let _ = write!(
            s,
            r#"<g class="node k-{kind} {st}" id="{id}" data-node="{id}" data-lines="{a}-{b}" data-status="{st}" tabindex="0"><title>{title}</title>"#,
            id = n.id,
            a = n.lines[0],
            b = n.lines[1],
            title = esc(&format!(
                "{} (lines {}–{})",
                n.label, n.lines[0], n.lines[1]
            )),
        );
        if n.kind == NodeKind::Join {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="7"/>"#,
                p.x,
                p.y + p.h / 2.0
            );
        } else {
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="6"/><text x="{:.1}" y="{:.1}">{}</text>"#,
                p.x - p.w / 2.0,
                p.y,
                p.w,
                p.h,
                p.x,
                p.y + p.h / 2.0 + 4.0,
                esc(&shorten(&n.label, 30))
            );
        }
        if let Some(b) = badge(i) {
            let _ = write!(
                s,
                r#"<text class="badge-text" x="{:.1}" y="{:.1}">{}</text>"#,
                p.x + p.w / 2.0 - 6.0,
                p.y - 4.0,
                esc(&b)
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}
