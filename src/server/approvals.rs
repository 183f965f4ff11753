//! Approval requests: list them, decide one.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ErrorBody;
use super::extract::{parse_id, Bearer, JsonBody, Path, Query};
use super::AppState;
use crate::db::approvals;
use crate::error::Error;

/// `GET /api/approvals` filters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    approver: Option<String>,
    status: Option<String>,
    workflow: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/approvals[?approver=&status=&workflow=]`: approval requests, newest first.
#[utoipa::path(get, path = "/api/approvals", tag = "approvals", params(ListQuery), responses((status = 200, description = "approval requests", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, Error> {
    let workflow = q
        .workflow
        .as_deref()
        .map(|w| parse_id(w, "workflow"))
        .transpose()?;
    state
        .blocking(move |rt| {
            let rows = approvals::list(
                &mut *rt.conn()?,
                q.approver.as_deref(),
                q.status.as_deref(),
                workflow,
                q.limit.unwrap_or(100).clamp(1, 1000),
            )?;
            Ok(Json(json!({ "approvals": rows })))
        })
        .await
}

/// The body of a decision.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideBody {
    decision: String,
    comment: Option<String>,
}

/// `POST /api/approvals/{id}` `{decision, comment}`: decides with the approval's token or the admin's; the workflow goes on at once where there is a free run slot.
#[utoipa::path(post, path = "/api/approvals/{id}", tag = "approvals", params(("id" = String, Path, description = "the id")), request_body = DecideBody, responses((status = 200, description = "decided", body = Object), (status = 401, description = "no token", body = ErrorBody), (status = 403, description = "wrong token", body = ErrorBody), (status = 409, description = "already decided", body = ErrorBody), (status = 429, description = "rate limited", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    Path(id): Path<String>,
    bearer: Bearer,
    JsonBody(body): JsonBody<DecideBody>,
) -> Result<Json<Value>, Error> {
    let id = parse_id(&id, "approval")?;
    let approve = match body.decision.as_str() {
        "approve" | "approved" => true,
        "reject" | "rejected" => false,
        other => {
            return Err(Error::BadRequest(format!(
                "'decision' must be \"approve\" or \"reject\", not \"{other}\""
            )))
        }
    };
    // Without a token: the admin in development mode, else refused. With a token: the
    // admin token, or else it must be this approval's own decision token.
    let token = match bearer.0.clone() {
        None if state.config.admin_token.is_none() => None,
        None => {
            return Err(Error::Unauthorized(
                "deciding an approval needs its decision token or the admin token (Authorization: Bearer …)".into(),
            ))
        }
        Some(_) if state.config.admin_token.is_some() && state.is_admin(&bearer) => None,
        Some(t) => Some(t),
    };
    let value = state
        .blocking(move |rt| {
            rt.decide_approval(id, token.as_deref(), approve, body.comment.as_deref())
        })
        .await?;
    Ok(Json(json!({ "id": id, "decision": value })))
}
