//! The designer's page: a script's graph beside its source. A node links to its lines and
//! a line to its node; with `?execution=ID` the nodes show that execution's step
//! statuses and follow it live, without one how many running executions stand at each.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::{is_htmx, render, PageError, Viewer};
use crate::server::extract::{Path, Query};
use crate::server::AppState;

/// One source line.
pub struct Line {
    pub n: usize,
    pub text: String,
    pub node: String,
}

#[derive(Template)]
#[template(path = "designer.html")]
struct DesignerPage {
    viewer: Viewer,
    bot: String,
    script: String,
    file: String,
    execution: String,
    svg: String,
    lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "designer_graph.html")]
struct GraphPart {
    svg: String,
}

/// `?execution=` and `?part=graph`.
#[derive(Deserialize, Default)]
pub struct DesignerQuery {
    #[serde(default)]
    execution: String,
    #[serde(default)]
    part: String,
}

/// `GET /designer/{bot}/{script}[?execution=ID]`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((bot, script)): Path<(String, String)>,
    Query(q): Query<DesignerQuery>,
) -> Result<Response, PageError> {
    let execution = match q.execution.trim() {
        "" => None,
        e => Some(crate::server::extract::parse_id(e, "execution")?),
    };
    let (b, s) = (bot.clone(), script.clone());
    let (d, o) = state
        .blocking(move |rt| {
            let d = crate::designer::drawn(rt, &b, &s)?;
            let o = crate::designer::overlay(rt, &d.graph, &b, &s, execution)?;
            Ok((d, o))
        })
        .await?;
    let svg = crate::designer::layout::svg(
        &d.graph,
        &|i| o.status[i].clone().map(|s| format!("s-{s}")),
        &|i| o.badge[i].clone(),
    );
    if q.part == "graph" && is_htmx(&headers) {
        return render(&GraphPart { svg });
    }
    // Each line belongs to the innermost node whose lines hold it (the last one in source
    // order among those that do, since inner statements come after their block's head).
    let lines = d
        .source
        .lines()
        .enumerate()
        .map(|(i, text)| {
            let n = (i + 1) as u32;
            let node = d
                .graph
                .nodes
                .iter()
                .filter(|nd| nd.lines[0] <= n && n <= nd.lines[1])
                .min_by_key(|nd| nd.lines[1] - nd.lines[0])
                .map(|nd| nd.id.clone())
                .unwrap_or_default();
            Line {
                n: i + 1,
                text: text.to_string(),
                node,
            }
        })
        .collect();
    render(&DesignerPage {
        viewer,
        bot,
        script,
        file: d.file,
        execution: execution.map(|e| e.to_string()).unwrap_or_default(),
        svg,
        lines,
    })
}
