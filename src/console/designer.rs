//! The designer's page: a script's graph beside its source. A node links to its lines and
//! a line to its node. With `?execution=ID` the page is read-only and the nodes show that
//! execution's step statuses, live. Without one it edits: the source in a text pane, a
//! palette of steps to drop on the graph's edges, a form for the selected node's
//! properties, the diagnostics of every change on the nodes and lines, and saving after
//! the diff and the executions that run on the current version are shown.
//!
//! Everything works as plain forms (edit the text, check, review, save); the script in
//! `console.js` adds the palette, node forms and validation while typing through the
//! JSON routes here (`preview`, `review`, `save`), which take the page's CSRF token in
//! the `x-csrf-token` header.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{is_htmx, render, view, Form, PageError, Viewer};
use crate::designer::DiffLine;
use crate::error::Error;
use crate::server::extract::{JsonBody, Path, Query};
use crate::server::AppState;

/// One source line: its number, text, node, and the class and text of a diagnostic on it.
pub struct Line {
    pub n: usize,
    pub text: String,
    pub node: String,
    pub diag: String,
    pub diag_text: String,
}

/// A diagnostic as the page lists it.
pub struct Diag {
    pub severity: String,
    pub line: u64,
    pub col: u64,
    pub message: String,
}

/// The review before a save: the diff, and how many executions run on the version on
/// disk.
pub struct Review {
    pub diff: Vec<DiffLine>,
    pub running: i64,
    pub changed: bool,
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
    source: String,
    base: String,
    diagnostics: Vec<Diag>,
    errors: usize,
    parse_error: String,
    notice: String,
    problem: String,
    review: Option<Review>,
}

impl DesignerPage {
    fn editing(&self) -> bool {
        self.execution.is_empty()
    }
}

#[derive(Template)]
#[template(path = "designer_graph.html")]
struct GraphPart {
    svg: String,
}

/// `?execution=`, `?part=graph`, `?notice=`.
#[derive(Deserialize, Default)]
pub struct DesignerQuery {
    #[serde(default)]
    execution: String,
    #[serde(default)]
    part: String,
    #[serde(default)]
    notice: String,
}

fn lines_of(source: &str, owner: &[String], diagnostics: &[Value]) -> Vec<Line> {
    source
        .lines()
        .enumerate()
        .map(|(i, text)| {
            let on: Vec<&Value> = diagnostics
                .iter()
                .filter(|d| d["line"].as_u64() == Some(i as u64 + 1))
                .collect();
            let diag = if on.iter().any(|d| d["severity"] == "error") {
                "diag-error"
            } else if on.is_empty() {
                ""
            } else {
                "diag-warning"
            };
            Line {
                n: i + 1,
                text: text.to_string(),
                node: owner.get(i).cloned().unwrap_or_default(),
                diag: diag.to_string(),
                diag_text: on
                    .iter()
                    .filter_map(|d| d["message"].as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        })
        .collect()
}

fn diags_of(diagnostics: &[Value]) -> Vec<Diag> {
    diagnostics
        .iter()
        .map(|d| Diag {
            severity: d["severity"].as_str().unwrap_or("error").to_string(),
            line: d["line"].as_u64().unwrap_or(0),
            col: d["col"].as_u64().unwrap_or(0),
            message: d["message"].as_str().unwrap_or("").to_string(),
        })
        .collect()
}

fn errors_in(diagnostics: &[Value]) -> usize {
    diagnostics
        .iter()
        .filter(|d| d["severity"] == "error")
        .count()
}

/// The page of a script being edited: `source` (the file on disk when `None`) with its
/// graph and diagnostics; `base` is the version the editing began from.
async fn editing_page(
    state: &AppState,
    viewer: Viewer,
    bot: String,
    script: String,
    source: Option<String>,
    base: Option<String>,
) -> Result<DesignerPage, PageError> {
    let (b, s) = (bot.clone(), script.clone());
    let (p, file, disk_hash, at) = state
        .blocking(move |rt| {
            let l = crate::designer::loaded(rt, &b, &s)?;
            let hash = crate::basic::content_hash(&l.source);
            let p = crate::designer::preview(rt, &b, &s, Some(source.unwrap_or(l.source)), &[])?;
            let file = l.file;
            let at = crate::designer::at_steps(&mut *rt.conn()?, &b, &s)?;
            Ok((p, file, hash, at))
        })
        .await?;
    let owner = p
        .graph
        .as_ref()
        .map(|g| crate::designer::line_nodes(g, &p.source))
        .unwrap_or_default();
    let svg = p
        .graph
        .as_ref()
        .map(|g| crate::designer::editing_svg(g, &p.source, &p.diagnostics, &at))
        .unwrap_or_default();
    Ok(DesignerPage {
        viewer,
        bot,
        script,
        file,
        execution: String::new(),
        svg,
        lines: lines_of(&p.source, &owner, &p.diagnostics),
        errors: errors_in(&p.diagnostics),
        diagnostics: diags_of(&p.diagnostics),
        parse_error: p.parse_error.unwrap_or_default(),
        source: p.source,
        base: base.unwrap_or(disk_hash),
        notice: String::new(),
        problem: String::new(),
        review: None,
    })
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
    let Some(execution) = execution else {
        let mut page = editing_page(&state, viewer, bot, script, None, None).await?;
        page.notice = view::shorten(&q.notice, 500);
        return render(&page);
    };
    let (b, s) = (bot.clone(), script.clone());
    let (d, o) = state
        .blocking(move |rt| {
            let d = crate::designer::drawn(rt, &b, &s)?;
            let o = crate::designer::overlay(rt, &d.graph, &b, &s, Some(execution))?;
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
    let owner = crate::designer::line_nodes(&d.graph, &d.source);
    render(&DesignerPage {
        viewer,
        bot,
        script,
        file: d.file,
        execution: execution.to_string(),
        svg,
        lines: lines_of(&d.source, &owner, &[]),
        base: crate::basic::content_hash(&d.source),
        source: d.source,
        diagnostics: Vec::new(),
        errors: 0,
        parse_error: String::new(),
        notice: String::new(),
        problem: String::new(),
        review: None,
    })
}

/// `POST /designer/{bot}/{script}` (a form: `csrf`, `base`, `source`, `action`): `check`
/// shows the text's graph and diagnostics, `review` its diff and the executions on the
/// current version, `save` writes it (a conflict or errors show the page again with the
/// text kept).
pub async fn post(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((bot, script)): Path<(String, String)>,
    form: Form,
) -> Result<Response, PageError> {
    form.check_csrf(&viewer.csrf)?;
    // A textarea sends CRLF line endings; the file keeps the endings it had.
    let source = form.get("source").unwrap_or("").to_string();
    let base = form.need("base")?.to_string();
    let action = form.get("action").unwrap_or("check").to_string();
    let (b, s) = (bot.clone(), script.clone());
    let on_disk = state
        .blocking(move |rt| Ok(crate::designer::loaded(rt, &b, &s)?.source))
        .await?;
    let source = with_endings_of(&source, &on_disk);
    match action.as_str() {
        "check" | "review" => {
            let mut page = editing_page(
                &state,
                viewer,
                bot.clone(),
                script.clone(),
                Some(source.clone()),
                Some(base.clone()),
            )
            .await?;
            if action == "review" {
                let review = review_of(&state, &bot, &script, &source, &base).await?;
                page.review = Some(review);
            }
            render(&page)
        }
        "save" => {
            let (b, s, src, bs) = (bot.clone(), script.clone(), source.clone(), base.clone());
            let saved = state
                .blocking(move |rt| crate::designer::save(rt, &b, &s, &src, &bs))
                .await;
            match saved {
                Ok(saved) => {
                    let notice = saved_notice(saved.on_previous);
                    Ok(Redirect::to(&format!(
                        "/designer/{}/{}?notice={}",
                        view::url_encode(&bot),
                        view::url_encode(&script),
                        view::url_encode(&notice)
                    ))
                    .into_response())
                }
                Err(e @ (Error::Conflict(_) | Error::BadRequest(_))) => {
                    let status = crate::server::status_of(&e).0;
                    let mut page =
                        editing_page(&state, viewer, bot, script, Some(source), Some(base)).await?;
                    page.problem = e.to_string();
                    let mut resp = render(&page)?;
                    *resp.status_mut() = status;
                    Ok(resp)
                }
                Err(e) => Err(e.into()),
            }
        }
        other => Err(PageError::bad(format!(
            "'action' must be check, review or save, not '{other}'"
        ))),
    }
}

fn saved_notice(on_previous: i64) -> String {
    match on_previous {
        0 => "Saved. New executions start on this version.".to_string(),
        1 => "Saved. 1 execution runs on the previous version and finishes on it; new ones start on this one.".to_string(),
        n => format!("Saved. {n} executions run on the previous version and finish on it; new ones start on this one."),
    }
}

/// `text` with the line endings of `like`: a browser's form sends CRLF, a file written
/// with LF keeps LF (and the reverse).
fn with_endings_of(text: &str, like: &str) -> String {
    let lf = text.replace("\r\n", "\n");
    if like.contains("\r\n") {
        lf.replace('\n', "\r\n")
    } else {
        lf
    }
}

async fn review_of(
    state: &AppState,
    bot: &str,
    script: &str,
    source: &str,
    base: &str,
) -> Result<Review, Error> {
    let (b, s, src, bs) = (
        bot.to_string(),
        script.to_string(),
        source.to_string(),
        base.to_string(),
    );
    state
        .blocking(move |rt| {
            let on_disk = crate::designer::loaded(rt, &b, &s)?.source;
            let hash = crate::basic::content_hash(&on_disk);
            Ok(Review {
                diff: crate::designer::diff(&on_disk, &src, 3),
                running: crate::designer::running_on(rt, &b, &s, &hash)?,
                changed: !crate::workflow::same_secret(&hash, &bs),
            })
        })
        .await
}

/// Refuses a JSON request whose `x-csrf-token` header is not the page's token.
fn check_csrf_header(headers: &HeaderMap, viewer: &Viewer) -> Result<(), Error> {
    match headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        Some(t) if crate::workflow::same_secret(t, &viewer.csrf) => Ok(()),
        Some(_) => Err(Error::Forbidden(
            "the x-csrf-token header is not this page's token: reload the page".into(),
        )),
        None => Err(Error::Forbidden(
            "the request carries no x-csrf-token header; send it from the designer's page".into(),
        )),
    }
}

/// The body of `POST …/preview`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    /// The text being edited.
    source: String,
    /// Edits to apply to it first.
    #[serde(default)]
    edits: Vec<crate::designer::edit::Edit>,
}

/// `POST /designer/{bot}/{script}/preview` `{source, edits}` → `{source, diagnostics,
/// errors, svg, line_nodes, nodes, parse_error}`: the text with the edits applied, checked
/// and drawn for editing. Nothing is saved.
pub async fn preview(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((bot, script)): Path<(String, String)>,
    JsonBody(body): JsonBody<PreviewBody>,
) -> Result<Json<Value>, Error> {
    check_csrf_header(&headers, &viewer)?;
    if body.edits.len() > 100 {
        return Err(Error::BadRequest(format!(
            "at most 100 edits at once, not {}",
            body.edits.len()
        )));
    }
    state
        .blocking(move |rt| {
            let p = crate::designer::preview(rt, &bot, &script, Some(body.source), &body.edits)?;
            let at = crate::designer::at_steps(&mut *rt.conn()?, &bot, &script)?;
            let (svg, owner, nodes) = match &p.graph {
                Some(g) => (
                    Some(crate::designer::editing_svg(
                        g,
                        &p.source,
                        &p.diagnostics,
                        &at,
                    )),
                    crate::designer::line_nodes(g, &p.source),
                    crate::designer::graph_json(g, None)["nodes"].clone(),
                ),
                None => (None, Vec::new(), Value::Null),
            };
            Ok(Json(json!({
                "source": p.source,
                "errors": errors_in(&p.diagnostics),
                "diagnostics": p.diagnostics,
                "svg": svg,
                "line_nodes": owner,
                "nodes": nodes,
                "parse_error": p.parse_error,
            })))
        })
        .await
}

/// The body of `POST …/review` and `POST …/save`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveBody {
    /// The whole text.
    source: String,
    /// The hash of the version the editing began from.
    base: String,
}

/// `POST /designer/{bot}/{script}/review` `{source, base}` → `{diff, running, changed}`:
/// the lines that differ from the file on disk, how many executions run on that version,
/// and whether it changed since the editing began (saving would then be a conflict).
pub async fn review(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((bot, script)): Path<(String, String)>,
    JsonBody(body): JsonBody<SaveBody>,
) -> Result<Json<Value>, Error> {
    check_csrf_header(&headers, &viewer)?;
    let r = review_of(&state, &bot, &script, &body.source, &body.base).await?;
    Ok(Json(
        json!({ "diff": r.diff, "running": r.running, "changed": r.changed }),
    ))
}

/// `POST /designer/{bot}/{script}/save` `{source, base}` → `{hash, running_on_previous,
/// notice}`; a file changed on disk since `base` is a 409 and a text with errors a 400
/// (neither is written).
pub async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((bot, script)): Path<(String, String)>,
    JsonBody(body): JsonBody<SaveBody>,
) -> Result<(StatusCode, Json<Value>), Error> {
    check_csrf_header(&headers, &viewer)?;
    let saved = state
        .blocking(move |rt| crate::designer::save(rt, &bot, &script, &body.source, &body.base))
        .await?;
    Ok((
        StatusCode::OK,
        Json(json!({
            "hash": saved.hash,
            "running_on_previous": saved.on_previous,
            "notice": saved_notice(saved.on_previous),
        })),
    ))
}
