//! Schedules: the scripts that run on a `SET SCHEDULE`, with their next and last runs.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ErrorBody;
use super::extract::Query;
use super::AppState;
use crate::db::schedules;
use crate::error::Error;

/// `GET /api/schedules` filters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    bot: Option<String>,
}

/// `GET /api/schedules[?bot=]`: every schedule by bot and script → `{schedules: [{bot,
/// script, cron, next_run, last_run, last_run_at, last_execution_id, last_error}]}`.
#[utoipa::path(get, path = "/api/schedules", tag = "schedules", params(ListQuery), responses((status = 200, description = "schedules", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, Error> {
    state
        .blocking(move |rt| {
            let rows = schedules::list(&mut *rt.conn()?, q.bot.as_deref())?;
            let list: Vec<Value> = rows
                .into_iter()
                .map(|r| {
                    json!({
                        "bot": r.bot,
                        "script": r.script,
                        "cron": r.cron,
                        "next_run": r.next_at,
                        "last_run": r.last_tick,
                        "last_run_at": r.last_run_at,
                        "last_execution_id": r.last_execution_id,
                        "last_error": r.last_error,
                    })
                })
                .collect();
            Ok(Json(json!({ "schedules": list })))
        })
        .await
}
