//! Workflow templates: the list the binary carries, and a new script of a bot made from one
//! (docs/designer.md, Templates).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ErrorBody;
use super::extract::{JsonBody, Path};
use super::AppState;
use crate::designer::templates;
use crate::error::Error;

/// `GET /api/templates`: the workflow templates → `{templates: [{name, title, description}]}`.
#[utoipa::path(get, path = "/api/templates", tag = "bots", responses((status = 200, description = "the workflow templates", body = Object)))]
pub async fn list() -> Json<Value> {
    let list: Vec<Value> = templates::list()
        .iter()
        .map(|t| json!({ "name": t.name, "title": t.title, "description": t.description }))
        .collect();
    Json(json!({ "templates": list }))
}

/// The body of `POST /api/bots/{bot}/scripts`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The new script's name (its file stem): lower-case letters, digits and `-`.
    script: String,
    /// The template it starts from (a name of `GET /api/templates`).
    template: String,
}

/// `POST /api/bots/{bot}/scripts` `{script, template}`: writes the template as the bot's new
/// script `{script}.bas` and loads the package again → `201 {bot, script, hash,
/// diagnostics}`. A script the bot already has is a 409; an unknown bot or template a 404;
/// a bad name a 400.
#[utoipa::path(post, path = "/api/bots/{bot}/scripts", tag = "bots", params(("bot" = String, Path, description = "the bot", example = "support")), request_body = CreateBody, responses((status = 201, description = "created", body = Object), (status = 400, description = "bad input: a bad script name", body = ErrorBody), (status = 404, description = "unknown bot or template", body = ErrorBody), (status = 409, description = "the bot already has that script", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Path(bot): Path<String>,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), Error> {
    state
        .blocking(move |rt| {
            let created = templates::create(rt, &bot, &body.script, &body.template)?;
            Ok((
                StatusCode::CREATED,
                Json(json!({
                    "bot": created.bot, "script": created.script, "hash": created.hash,
                    "diagnostics": crate::designer::diagnostics(rt, &created.source),
                })),
            ))
        })
        .await
}
