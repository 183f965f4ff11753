//! The approvals inbox (pending requests by approver, with their escalation chain and
//! deadline; decide with a comment; history) and the approver's own page, which the
//! link carried by `approval_requested` opens without the admin token.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::view;
use super::workflows::escalation;
use super::{back_to, render, Form, PageError, Viewer};
use crate::db::approvals::{self, ApprovalRow};
use crate::db::executions;
use crate::db::states::ApprovalStatus;
use crate::server::extract::{Path, Query};
use crate::server::AppState;

/// The bot and name of each request's workflow, by its id.
type Names = BTreeMap<Uuid, (String, String)>;

/// One request as the pages show it.
pub struct Request {
    pub id: String,
    pub workflow: String,
    pub workflow_name: String,
    pub bot: String,
    pub step: String,
    pub approver: String,
    pub message: String,
    pub status: String,
    pub asked: String,
    pub deadline: String,
    pub escalation: String,
    pub decided_by: String,
    pub comment: String,
    pub decided: String,
}

fn request(a: &ApprovalRow, names: &Names) -> Request {
    let (bot, name) = names.get(&a.execution_id).cloned().unwrap_or_default();
    Request {
        id: a.id.to_string(),
        workflow: a.execution_id.to_string(),
        workflow_name: name,
        bot,
        step: a.step.clone().unwrap_or_default(),
        approver: a.approver.clone(),
        message: a.message.clone().unwrap_or_default(),
        status: a.status.as_str().to_string(),
        asked: view::time(&a.created_at),
        deadline: a
            .deadline
            .map(|d| format!("{} ({})", view::time(&d), view::relative(&d)))
            .unwrap_or_default(),
        escalation: escalation(&a.escalate_to),
        decided_by: a.decided_by.clone().unwrap_or_default(),
        comment: a.comment.clone().unwrap_or_default(),
        decided: view::time_opt(&a.decided_at),
    }
}

/// The bot and name of each request's workflow.
fn names_of(conn: &mut diesel::PgConnection, rows: &[ApprovalRow]) -> crate::error::Result<Names> {
    let ids: Vec<Uuid> = rows.iter().map(|a| a.execution_id).collect();
    Ok(executions::names(conn, &ids)?
        .into_iter()
        .map(|(id, bot, name)| (id, (bot, name)))
        .collect())
}

/// Pending requests of one approver.
pub struct Group {
    pub approver: String,
    pub requests: Vec<Request>,
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct InboxPage {
    viewer: Viewer,
    approver: String,
    groups: Vec<Group>,
    history: Vec<Request>,
    notice: String,
}

/// `GET /approvals` filters.
#[derive(Deserialize, Default)]
pub struct InboxQuery {
    #[serde(default)]
    approver: String,
    #[serde(default)]
    notice: String,
}

/// How many requests each part of the inbox shows.
const SHOWN: i64 = 200;

/// `GET /approvals[?approver=]`: pending requests by approver, soonest deadline first,
/// and the latest decisions.
pub async fn inbox(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<InboxQuery>,
) -> Result<Response, PageError> {
    let approver = q.approver.trim().to_string();
    let who = approver.clone();
    let (pending, history) = state
        .blocking(move |rt| {
            let mut conn = rt.conn()?;
            let who = Some(who.as_str()).filter(|a| !a.is_empty());
            let mut pending = approvals::list(&mut conn, who, Some("pending"), None, SHOWN)?;
            pending.sort_by_key(|a| (a.deadline.is_none(), a.deadline, a.created_at));
            let history: Vec<ApprovalRow> = approvals::list(&mut conn, who, None, None, SHOWN)?
                .into_iter()
                .filter(|a| a.status != ApprovalStatus::Pending)
                .take(50)
                .collect();
            let mut all = pending.clone();
            all.extend(history.iter().cloned());
            let names = names_of(&mut conn, &all)?;
            let pending: Vec<Request> = pending.iter().map(|a| request(a, &names)).collect();
            let history: Vec<Request> = history.iter().map(|a| request(a, &names)).collect();
            Ok((pending, history))
        })
        .await?;
    let mut groups: Vec<Group> = Vec::new();
    for r in pending {
        match groups.iter_mut().find(|g| g.approver == r.approver) {
            Some(g) => g.requests.push(r),
            None => groups.push(Group {
                approver: r.approver.clone(),
                requests: vec![r],
            }),
        }
    }
    render(&InboxPage {
        viewer,
        approver,
        groups,
        history,
        notice: q.notice,
    })
}

fn decision(form: &Form) -> Result<bool, PageError> {
    match form.need("decision")? {
        "approve" => Ok(true),
        "reject" => Ok(false),
        other => Err(PageError::bad(format!(
            "'decision' must be approve or reject, not \"{other}\""
        ))),
    }
}

fn comment(form: &Form) -> Option<String> {
    form.get("comment")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| view::shorten(c, 4000))
}

fn parse_id(id: &str) -> Result<Uuid, PageError> {
    Ok(crate::server::extract::parse_id(id.trim(), "approval")?)
}

/// `POST /approvals/{id}/decide` `decision`, `comment`, `csrf`: decided as the admin.
pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    form.check_csrf(&viewer.csrf)?;
    let id = parse_id(&id)?;
    let approve = decision(&form)?;
    let comment = comment(&form);
    state
        .blocking(move |rt| rt.decide_approval(id, None, approve, comment.as_deref()))
        .await?;
    let verb = if approve { "Approved" } else { "Rejected" };
    Ok(back_to(&form, "/approvals", &format!("{verb}.")))
}

#[derive(Template)]
#[template(path = "approve.html")]
struct ApproverPage {
    request: Request,
    pending: bool,
    token: String,
    csrf: String,
    done: String,
}

/// The approver's link: `?token=`.
#[derive(Deserialize, Default)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
    #[serde(default)]
    notice: String,
}

/// The request of `id` if `token` is its decision token; anything else is the same 403,
/// whether the request exists or not.
fn with_token(
    rt: &crate::workflow::Runtime,
    id: Uuid,
    token: &str,
) -> Result<(ApprovalRow, Names), crate::error::Error> {
    let mut conn = rt.conn()?;
    let refused = || {
        crate::error::Error::Forbidden(
            "this link is not valid for this approval request (its token does not match)".into(),
        )
    };
    let a = approvals::get(&mut conn, id)?.ok_or_else(refused)?;
    if token.is_empty() || !crate::workflow::same_secret(&a.token, token) {
        return Err(refused());
    }
    let names = names_of(&mut conn, std::slice::from_ref(&a))?;
    Ok((a, names))
}

/// `GET /approve/{id}?token=`: the one request the link is for, with a form to decide it.
pub async fn approver_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let token = q.token.trim().to_string();
    let t = token.clone();
    let (a, names) = state.blocking(move |rt| with_token(rt, id, &t)).await?;
    render(&ApproverPage {
        pending: a.status == ApprovalStatus::Pending,
        request: request(&a, &names),
        csrf: state.console.keys.approval_csrf(&id.to_string(), &token),
        token,
        done: q.notice,
    })
}

/// `POST /approve/{id}` `token`, `decision`, `comment`, `csrf`: decides as the approver.
pub async fn approver_decide(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let token = form.need("token")?.trim().to_string();
    form.check_csrf(&state.console.keys.approval_csrf(&id.to_string(), &token))?;
    let approve = decision(&form)?;
    let comment = comment(&form);
    let t = token.clone();
    state
        .blocking(move |rt| {
            with_token(rt, id, &t)?;
            rt.decide_approval(id, Some(&t), approve, comment.as_deref())
        })
        .await
        .map_err(|e| match e {
            crate::error::Error::Conflict(m) => {
                PageError::new(StatusCode::CONFLICT, "Already decided", &m)
            }
            other => other.into(),
        })?;
    let verb = if approve { "approved" } else { "rejected" };
    let back = format!(
        "/approve/{id}?token={}&notice={}",
        view::url_encode(&token),
        view::url_encode(&format!("You {verb} this request. Thank you."))
    );
    Ok(axum::response::IntoResponse::into_response(
        axum::response::Redirect::to(&back),
    ))
}
