//! The workflow list (filters, id search, pages, batch cancel and retry) and one
//! workflow's page (steps, tree, variables, journal, what it waits for, actions).

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::view::{self, query};
use super::{back_to, is_htmx, render, Form, PageError, Viewer};
use crate::db::approvals;
use crate::db::executions::{self, ExecRow};
use crate::db::journal;
use crate::db::states::{Direction, ExecKind, ExecStatus};
use crate::db::{messages, steps};
use crate::error::Error;
use crate::server::extract::{parse_id, parse_status, Path, Query};
use crate::server::AppState;
use crate::workflow::ops::RetryVersion;

/// Rows on one page of the list.
const PAGE: i64 = 50;

/// The list's filters, as the form sends them (empty fields are no filter).
#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    bot: String,
    #[serde(default)]
    name: String,
    /// Created from (`YYYY-MM-DDTHH:MM`, UTC, as a `datetime-local` field sends it).
    #[serde(default)]
    since: String,
    /// Created before.
    #[serde(default)]
    until: String,
    /// An id to open.
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    before: String,
    #[serde(default)]
    notice: String,
}

/// One row of the list.
pub struct Row {
    pub id: String,
    pub bot: String,
    pub name: String,
    pub status: String,
    pub waiting: String,
    pub created: String,
    pub took: String,
}

pub(super) fn row(e: &ExecRow) -> Row {
    Row {
        id: e.id.to_string(),
        bot: e.bot.clone(),
        name: e.name.clone().unwrap_or_else(|| e.script.clone()),
        status: e.status.as_str().to_string(),
        waiting: view::waiting(&e.waiting_for),
        created: view::time(&e.created_at),
        took: view::between(&e.created_at, &e.finished_at),
    }
}

#[derive(Template)]
#[template(path = "workflows.html")]
struct ListPage {
    viewer: Viewer,
    f: ListQuery,
    statuses: Vec<&'static str>,
    bots: Vec<String>,
    rows: Vec<Row>,
    newer: String,
    older: String,
    here: String,
}

fn parse_time(s: &str, field: &str) -> Result<Option<DateTime<Utc>>, PageError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    for fmt in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(Some(t.and_utc()));
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
    }
    Err(PageError::bad(format!(
        "'{field}' must be a time such as 2026-12-01T09:30 (UTC), not \"{s}\""
    )))
}

/// An optional workflow id of a filter field (empty: none).
fn parse_uuid(s: &str) -> Result<Option<Uuid>, PageError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    Ok(Some(parse_id(s, "workflow")?))
}

/// `GET /workflows`: newest first, filtered, a page at a time (keyset pages by id, so
/// the thousandth page costs what the first does).
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(f): Query<ListQuery>,
) -> Result<Response, PageError> {
    if let Some(id) = parse_uuid(&f.q)? {
        return Ok(Redirect::to(&format!("/workflows/{id}")).into_response());
    }
    let status = match f.status.trim() {
        "" => None,
        s => Some(parse_status(s)?),
    };
    let since = parse_time(&f.since, "since")?;
    let until = parse_time(&f.until, "until")?;
    let after = parse_uuid(&f.after)?;
    let before = parse_uuid(&f.before)?;
    let bots: Vec<String> = state.rt.bot_list().into_iter().map(|(b, _)| b).collect();
    let fq = f.clone();
    let rows = state
        .blocking(move |rt| {
            let filter = executions::ListFilter {
                status,
                bot: Some(fq.bot.trim()).filter(|b| !b.is_empty()),
                name: Some(fq.name.trim()).filter(|n| !n.is_empty()),
                after,
                before,
                since,
                until,
            };
            // One more than a page tells whether there is a page beyond.
            executions::list(&mut *rt.conn()?, &[ExecKind::Workflow], &filter, PAGE + 1)
        })
        .await?;
    let more = rows.len() as i64 > PAGE;
    let rows: Vec<ExecRow> = if before.is_some() {
        // A page back: the extra row is the newest one, beyond this page's top.
        let skip = rows.len().saturating_sub(PAGE as usize);
        rows.into_iter().skip(skip).collect()
    } else {
        rows.into_iter().take(PAGE as usize).collect()
    };
    let base = |extra: (&str, &str)| {
        query(&[
            ("status", &f.status),
            ("bot", &f.bot),
            ("name", &f.name),
            ("since", &f.since),
            ("until", &f.until),
            extra,
        ])
    };
    let first = rows.first().map(|r| r.id.to_string()).unwrap_or_default();
    let last = rows.last().map(|r| r.id.to_string()).unwrap_or_default();
    // Newer pages exist when this one was reached by paging (or a page back was full).
    let has_newer = (after.is_some() || (before.is_some() && more)) && !rows.is_empty();
    let has_older = (before.is_some() || more) && !rows.is_empty();
    let page = ListPage {
        viewer,
        here: format!("/workflows{}", base(("", ""))),
        newer: if has_newer {
            format!("/workflows{}", base(("before", &first)))
        } else {
            String::new()
        },
        older: if has_older {
            format!("/workflows{}", base(("after", &last)))
        } else {
            String::new()
        },
        rows: rows.iter().map(row).collect(),
        statuses: statuses(),
        bots,
        f,
    };
    render(&page)
}

fn statuses() -> Vec<&'static str> {
    ExecStatus::ALL.iter().map(|s| s.as_str()).collect()
}

/// `POST /workflows/actions` `action=cancel|retry`, `id` (repeated), `csrf`: the action
/// on every selected workflow; the list comes back with what happened to each.
pub async fn batch(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Form,
) -> Result<Response, PageError> {
    form.check_csrf(&viewer.csrf)?;
    let action = form.need("action")?.to_string();
    let ids: Vec<Uuid> = form
        .all("id")
        .into_iter()
        .map(|s| parse_id(s.trim(), "workflow").map_err(PageError::from))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(back_to(&form, "/workflows", "Nothing selected."));
    }
    if ids.len() > PAGE as usize * 4 {
        return Err(PageError::bad(format!(
            "at most {} workflows at once, not {}",
            PAGE * 4,
            ids.len()
        )));
    }
    let version = retry_version(&form)?;
    let verb = match action.as_str() {
        "cancel" => "cancelled",
        "retry" => "retried",
        other => {
            return Err(PageError::bad(format!(
                "'action' must be cancel or retry, not \"{other}\""
            )))
        }
    };
    let outcomes = state
        .blocking(move |rt| {
            let mut done = 0usize;
            let mut refused = Vec::new();
            for id in ids {
                let r = if action == "cancel" {
                    rt.cancel(id)
                } else {
                    rt.retry(id, version)
                };
                match r {
                    Ok(()) => done += 1,
                    Err(Error::Database(e)) => return Err(Error::Database(e)),
                    Err(Error::Pool(e)) => return Err(Error::Pool(e)),
                    Err(e) => refused.push(format!("{}: {e}", short(id))),
                }
            }
            Ok((done, refused))
        })
        .await?;
    let (done, refused) = outcomes;
    let mut notice = format!("{done} {verb}.");
    if !refused.is_empty() {
        notice.push_str(&format!(
            " {} refused: {}",
            refused.len(),
            refused.join("; ")
        ));
    }
    Ok(back_to(&form, "/workflows", &view::shorten(&notice, 1500)))
}

fn short(id: Uuid) -> String {
    id.to_string().chars().take(8).collect()
}

/// One step of the timeline.
pub struct StepView {
    pub label: String,
    pub kind: String,
    pub status: String,
    pub attempts: i32,
    pub started: String,
    pub took: String,
    pub error: String,
    pub result: String,
}

/// One execution of the tree, with its depth for indentation.
pub struct NodeView {
    pub id: String,
    pub depth: usize,
    pub kind: String,
    pub bot: String,
    pub name: String,
    pub status: String,
    pub waiting: String,
    pub error: String,
}

/// One journal entry.
pub struct EntryView {
    pub key: String,
    pub value: String,
    pub at: String,
}

/// A pending approval of the workflow.
pub struct PendingView {
    pub id: String,
    pub approver: String,
    pub step: String,
    pub deadline: String,
    pub escalation: String,
}

/// What changes while a workflow runs: everything its page shows below the title.
pub struct Live {
    pub id: String,
    pub bot: String,
    pub name: String,
    pub script: String,
    pub status: String,
    pub terminal: bool,
    pub failed: bool,
    pub waiting: String,
    pub until: String,
    pub created: String,
    pub finished: String,
    pub took: String,
    pub error: String,
    pub result: String,
    pub input: String,
    pub variables: String,
    pub steps: Vec<StepView>,
    pub tree: Vec<NodeView>,
    pub journal: Vec<EntryView>,
    pub journal_more: bool,
    pub pending: Vec<PendingView>,
    pub output: Vec<String>,
    pub parent: String,
    pub conversation: String,
}

/// The most journal entries a page lists.
const JOURNAL_SHOWN: i64 = 300;

/// Everything the page of `id` shows, read in one connection.
pub fn load_live(rt: &crate::workflow::Runtime, id: Uuid) -> Result<Live, Error> {
    let mut conn = rt.conn()?;
    let e = executions::get(&mut conn, id)?
        .ok_or_else(|| Error::NotFound(format!("no workflow {id}")))?;
    let steps = steps::steps(&mut conn, id)?;
    let tree = executions::tree(&mut conn, id)?;
    let entries = journal::entries(&mut conn, id, JOURNAL_SHOWN + 1)?;
    let pending: Vec<_> = approvals::list(&mut conn, None, Some("pending"), Some(id), 50)?;
    let output: Vec<String> = messages::messages(&mut conn, id, 0)?
        .into_iter()
        .filter(|m| m.direction == Direction::Bot)
        .map(|m| m.text)
        .collect();
    let until = match e
        .waiting_for
        .as_ref()
        .and_then(|w| w.get("kind"))
        .and_then(|k| k.as_str())
    {
        Some("approval") => pending
            .first()
            .and_then(|a| a.deadline)
            .map(|d| format!("{} ({})", view::time(&d), view::relative(&d)))
            .unwrap_or_else(|| "no deadline".into()),
        _ => String::new(),
    };
    Ok(Live {
        id: e.id.to_string(),
        bot: e.bot.clone(),
        name: e.name.clone().unwrap_or_default(),
        script: e.script.clone(),
        status: e.status.as_str().to_string(),
        terminal: e.status.is_terminal(),
        failed: e.status == ExecStatus::Failed,
        waiting: view::waiting(&e.waiting_for),
        until,
        created: view::time(&e.created_at),
        finished: view::time_opt(&e.finished_at),
        took: view::between(&e.created_at, &e.finished_at),
        error: e.error.clone().unwrap_or_default(),
        result: e
            .result
            .as_ref()
            .map(|r| view::json_pretty(r, 4000))
            .unwrap_or_default(),
        input: view::json_pretty(&e.input, 4000),
        variables: view::json_pretty(&e.variables, 8000),
        steps: steps
            .iter()
            .map(|s| StepView {
                label: s.label.clone(),
                kind: s.kind.as_str().to_string(),
                status: s.status.as_str().to_string(),
                attempts: s.attempts,
                started: view::time(&s.started_at),
                took: view::between(&s.started_at, &s.finished_at),
                error: s.error.clone().unwrap_or_default(),
                result: s
                    .result
                    .as_ref()
                    .map(|r| view::json_line(r, 200))
                    .unwrap_or_default(),
            })
            .collect(),
        tree: tree_view(&tree, id),
        journal_more: entries.len() as i64 > JOURNAL_SHOWN,
        journal: entries
            .iter()
            .take(JOURNAL_SHOWN as usize)
            .map(|j| EntryView {
                key: j.key.clone(),
                value: view::json_line(&j.value, 300),
                at: view::time(&j.created_at),
            })
            .collect(),
        pending: pending
            .iter()
            .map(|a| PendingView {
                id: a.id.to_string(),
                approver: a.approver.clone(),
                step: a.step.clone().unwrap_or_default(),
                deadline: a
                    .deadline
                    .map(|d| format!("{} ({})", view::time(&d), view::relative(&d)))
                    .unwrap_or_default(),
                escalation: escalation(&a.escalate_to),
            })
            .collect(),
        output,
        parent: e.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        conversation: e.conversation().map(|c| c.to_string()).unwrap_or_default(),
    })
}

/// The escalation chain, `a → b → c`.
pub fn escalation(v: &serde_json::Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(" → ")
        })
        .unwrap_or_default()
}

/// The executions under `root`, depth first, oldest first at each level.
fn tree_view(rows: &[ExecRow], root: Uuid) -> Vec<NodeView> {
    let mut by_parent: HashMap<Uuid, Vec<&ExecRow>> = HashMap::new();
    for r in rows {
        if let Some(p) = r.parent_id {
            by_parent.entry(p).or_default().push(r);
        }
    }
    let mut out = Vec::new();
    let mut stack: Vec<(Uuid, usize)> = vec![(root, 0)];
    while let Some((id, depth)) = stack.pop() {
        // Parents exist before their children, so the walk ends; the bound only keeps a
        // corrupted table from going on without end.
        if depth > 64 || out.len() > 10_000 {
            break;
        }
        if let Some(kids) = by_parent.get(&id) {
            for c in kids.iter().rev() {
                stack.push((c.id, depth + 1));
            }
        }
        if id == root {
            continue;
        }
        if let Some(c) = rows.iter().find(|r| r.id == id) {
            out.push(NodeView {
                id: c.id.to_string(),
                depth,
                kind: c.kind.as_str().to_string(),
                bot: c.bot.clone(),
                name: c.name.clone().unwrap_or_else(|| c.script.clone()),
                status: c.status.as_str().to_string(),
                waiting: view::waiting(&c.waiting_for),
                error: c.error.clone().unwrap_or_default(),
            });
        }
    }
    out
}

#[derive(Template)]
#[template(path = "workflow.html")]
struct DetailPage {
    viewer: Viewer,
    live: Live,
    notice: String,
}

#[derive(Template)]
#[template(path = "workflow_live.html")]
struct LivePart {
    viewer: Viewer,
    live: Live,
}

/// `?notice=` after an action.
#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
    #[serde(default)]
    part: String,
}

/// `GET /workflows/{id}`: the whole page, or (`?part=live` from htmx) the part below the
/// title, which the page asks for again whenever its event stream says something moved.
pub async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let id = parse_id(id.trim(), "workflow")?;
    let live = state.blocking(move |rt| load_live(rt, id)).await?;
    if q.part == "live" && is_htmx(&headers) {
        return render(&LivePart { viewer, live });
    }
    render(&DetailPage {
        viewer,
        live,
        notice: q.notice,
    })
}

/// The workflow of an action's path, once the form's CSRF token and its confirmation box
/// are there (`refusal` says what the box confirms).
fn confirmed(viewer: &Viewer, form: &Form, id: &str, refusal: &str) -> Result<Uuid, PageError> {
    form.check_csrf(&viewer.csrf)?;
    let id = parse_id(id.trim(), "workflow")?;
    if form.get("confirm").is_none() {
        return Err(PageError::bad(refusal.to_string()));
    }
    Ok(id)
}

/// The `version` of a retry form: `latest` (the default) or `pinned`.
fn retry_version(form: &Form) -> Result<RetryVersion, PageError> {
    match form.get("version").unwrap_or("latest") {
        "latest" => Ok(RetryVersion::Latest),
        "pinned" => Ok(RetryVersion::Pinned),
        other => Err(PageError::bad(format!(
            "'version' must be latest or pinned, not \"{other}\""
        ))),
    }
}

/// `POST /workflows/{id}/cancel` `confirm`, `csrf`.
pub async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = confirmed(
        &viewer,
        &form,
        &id,
        "tick 'confirm' to cancel: the workflow and everything it started end",
    )?;
    state.blocking(move |rt| rt.cancel(id)).await?;
    Ok(back_to(
        &form,
        &format!("/workflows/{id}"),
        "Cancelled with its whole tree.",
    ))
}

/// `POST /workflows/{id}/retry` `version=latest|pinned`, `confirm`, `csrf`.
pub async fn retry(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = confirmed(
        &viewer,
        &form,
        &id,
        "tick 'confirm' to retry: the failed step runs again",
    )?;
    let version = retry_version(&form)?;
    state.blocking(move |rt| rt.retry(id, version)).await?;
    Ok(back_to(
        &form,
        &format!("/workflows/{id}"),
        "Retried from its failed step.",
    ))
}
