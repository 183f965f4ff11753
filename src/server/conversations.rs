//! Conversations: start one with a bot, send messages, read the transcript.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ErrorBody;
use super::extract::{parse_id, JsonBody, Path};
use super::AppState;
use crate::db::executions;
use crate::db::messages;
use crate::db::states::{ExecKind, ExecStatus, WaitingFor};
use crate::error::Error;

/// `POST /api/bots/{bot}/conversations`: starts `start.bas` and runs it to its first wait.
#[utoipa::path(post, path = "/api/bots/{bot}/conversations", tag = "conversations", params(("bot" = String, Path, description = "the bot", example = "support")), responses((status = 201, description = "started", body = Object), (status = 409, description = "paused", body = ErrorBody), (status = 429, description = "rate limited", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    Path(bot): Path<String>,
) -> Result<(StatusCode, Json<Value>), Error> {
    let reply = state
        .blocking(move |rt| rt.start_conversation(&bot))
        .await?;
    Ok((StatusCode::CREATED, Json(json!(reply))))
}

/// The body of a message.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    text: String,
}

/// `POST /api/conversations/{id}/messages` `{text}`: answers the conversation's `HEAR` and runs it on.
#[utoipa::path(post, path = "/api/conversations/{id}/messages", tag = "conversations", params(("id" = String, Path, description = "the id")), request_body = MessageBody, responses((status = 200, description = "the reply", body = Object), (status = 409, description = "not waiting", body = ErrorBody), (status = 413, description = "too large", body = ErrorBody), (status = 429, description = "rate limited", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<MessageBody>,
) -> Result<Json<Value>, Error> {
    let id = parse_id(&id, "conversation")?;
    if body.text.len() > state.config.max_message_bytes {
        return Err(Error::TooLarge(format!(
            "'text' is {} bytes; the limit is {} bytes",
            body.text.len(),
            state.config.max_message_bytes
        )));
    }
    let reply = state
        .blocking(move |rt| rt.post_message(id, &body.text))
        .await?;
    Ok(Json(json!(reply)))
}

/// `GET /api/conversations/{id}`: the transcript and the status.
#[utoipa::path(get, path = "/api/conversations/{id}", tag = "conversations", params(("id" = String, Path, description = "the id")), responses((status = 200, description = "transcript and status", body = Object), (status = 429, description = "rate limited", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let id = parse_id(&id, "conversation")?;
    state
        .blocking(move |rt| {
            let mut conn = rt.conn()?;
            let exec = executions::get(&mut conn, id)?
                .filter(|e| e.kind == ExecKind::Conversation)
                .ok_or_else(|| Error::NotFound(format!("no conversation {id}")))?;
            let messages = messages::messages(&mut conn, id, 0)?;
            let waiting = exec.status == ExecStatus::Waiting
                && WaitingFor::is_message(exec.waiting_for.as_ref());
            Ok(Json(json!({
                "id": exec.id, "bot": exec.bot, "status": exec.status, "waiting": waiting,
                "waiting_for": exec.waiting_for, "error": exec.error,
                "messages": messages, "created_at": exec.created_at,
            })))
        })
        .await
}
