//! Loaded bots and their memory.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::error::ErrorBody;
use super::extract::{Path, Query};
use super::AppState;
use crate::db::memory;
use crate::error::Error;

/// `GET /api/bots`: the loaded bots and their scripts.
#[utoipa::path(get, path = "/api/bots", tag = "bots", responses((status = 200, description = "the loaded bots", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    let bots: Vec<Value> = state
        .rt
        .bot_list()
        .into_iter()
        .map(|(name, scripts)| json!({ "name": name, "scripts": scripts }))
        .collect();
    Json(json!({ "bots": bots }))
}

fn known(state: &AppState, bot: &str) -> Result<(), Error> {
    if state.rt.has_bot(bot) {
        Ok(())
    } else {
        Err(Error::NotFound(format!("unknown bot '{bot}'")))
    }
}

/// `GET /api/bots/{bot}/memory`: a bot's memory.
#[utoipa::path(get, path = "/api/bots/{bot}/memory", tag = "bots", params(("bot" = String, Path, description = "the bot", example = "support")), responses((status = 200, description = "the bot's memory", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn memory(
    State(state): State<AppState>,
    Path(bot): Path<String>,
) -> Result<Json<Value>, Error> {
    known(&state, &bot)?;
    state
        .blocking(move |rt| {
            let rows = memory::list(&mut *rt.conn()?, &bot, None)?;
            let entries: serde_json::Map<String, Value> =
                rows.into_iter().map(|r| (r.key, r.value)).collect();
            Ok(Json(json!({ "bot": bot, "memory": entries })))
        })
        .await
}

/// `GET /api/bots/{bot}/memory/{key}`: one key of a bot's memory.
#[utoipa::path(get, path = "/api/bots/{bot}/memory/{key}", tag = "bots", params(("bot" = String, Path, description = "the bot", example = "support"), ("key" = String, Path, description = "the key")), responses((status = 200, description = "one value", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn memory_key(
    State(state): State<AppState>,
    Path((bot, key)): Path<(String, String)>,
) -> Result<Json<Value>, Error> {
    known(&state, &bot)?;
    state
        .blocking(move |rt| {
            let row = memory::list(&mut *rt.conn()?, &bot, Some(&key))?
                .into_iter()
                .next()
                .ok_or_else(|| Error::NotFound(format!("bot '{bot}' has no memory key '{key}'")))?;
            Ok(Json(json!({
                "bot": bot, "key": row.key, "value": row.value, "version": row.version, "updated_at": row.updated_at,
            })))
        })
        .await
}

/// `GET /api/bots/{bot}/memory/shared`: what a bot shares and what is shared with it.
#[utoipa::path(get, path = "/api/bots/{bot}/memory/shared", tag = "bots", params(("bot" = String, Path, description = "the bot", example = "support")), responses((status = 200, description = "shares out and in", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn shared(
    State(state): State<AppState>,
    Path(bot): Path<String>,
) -> Result<Json<Value>, Error> {
    known(&state, &bot)?;
    state
        .blocking(move |rt| {
            let (outgoing, incoming) = memory::shares(&mut *rt.conn()?, &bot)?;
            Ok(Json(
                json!({ "bot": bot, "outgoing": outgoing, "incoming": incoming }),
            ))
        })
        .await
}

/// `?limit=&offset=` of a table's rows.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RowsQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

fn columns_json(cols: &[crate::data::ops::ColumnInfo]) -> Vec<Value> {
    cols.iter()
        .map(|c| json!({ "name": c.name, "type": c.ty }))
        .collect()
}

/// `GET /api/bots/{bot}/tables`: the bot's tables (those its `TABLE` definitions made),
/// each with its columns and how many rows it has.
#[utoipa::path(get, path = "/api/bots/{bot}/tables", tag = "bots", params(("bot" = String, Path, description = "the bot", example = "support")), responses((status = 200, description = "the bot's tables", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn tables(
    State(state): State<AppState>,
    Path(bot): Path<String>,
) -> Result<Json<Value>, Error> {
    known(&state, &bot)?;
    state
        .blocking(move |rt| {
            use crate::data::ops;
            let mut conn = rt.conn()?;
            let mut out = Vec::new();
            for name in ops::tables(&mut conn, &bot)? {
                let cols = ops::columns(&mut conn, &bot, &name)?;
                let rows = ops::count_rows(&mut conn, &bot, &name)?;
                out.push(json!({ "name": name, "columns": columns_json(&cols), "rows": rows }));
            }
            Ok(Json(json!({
                "bot": bot,
                "schema": crate::data::schema::schema_of(&bot),
                "tables": out,
            })))
        })
        .await
}

/// `GET /api/bots/{bot}/tables/{table}[?limit=&offset=]`: a page of a table's rows (at
/// most `limit`, default 100, at most 1000), in the order of its first column.
#[utoipa::path(get, path = "/api/bots/{bot}/tables/{table}", tag = "bots", params(("bot" = String, Path, description = "the bot", example = "support"), ("table" = String, Path, description = "the table"), RowsQuery), responses((status = 200, description = "a page of rows", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn table(
    State(state): State<AppState>,
    Path((bot, table)): Path<(String, String)>,
    Query(q): Query<RowsQuery>,
) -> Result<Json<Value>, Error> {
    known(&state, &bot)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Error::BadRequest(format!(
            "'limit' must be between 1 and 1000, not {limit}"
        )));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(Error::BadRequest(format!(
            "'offset' must be 0 or more, not {offset}"
        )));
    }
    state
        .blocking(move |rt| {
            use crate::data::ops;
            let mut conn = rt.conn()?;
            let cols = ops::columns(&mut conn, &bot, &table)?;
            if cols.is_empty() {
                return Err(Error::NotFound(format!(
                    "bot '{bot}' has no table '{table}'"
                )));
            }
            let total = ops::count_rows(&mut conn, &bot, &table)?;
            let rows = ops::rows(&mut conn, &bot, &table, &cols, limit, offset)?;
            Ok(Json(json!({
                "bot": bot,
                "table": table,
                "columns": columns_json(&cols),
                "total": total,
                "offset": offset,
                "rows": rows,
            })))
        })
        .await
}

/// `POST /api/bots/{bot}/pause`: the operator's switch for a runaway bot (an event storm,
/// a loop): none of its executions is claimed, its handlers are stored but not started,
/// new workflows of it are stored, its conversations answer 409. `{bot, paused, changed}`.
#[utoipa::path(post, path = "/api/bots/{bot}/pause", tag = "bots", params(("bot" = String, Path, description = "the bot", example = "support")), responses((status = 200, description = "paused", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    Path(bot): Path<String>,
) -> Result<Json<Value>, Error> {
    switch(state, bot, true).await
}

/// `POST /api/bots/{bot}/resume`: lets every instance run what waited. `{bot, paused, changed}`.
#[utoipa::path(post, path = "/api/bots/{bot}/resume", tag = "bots", params(("bot" = String, Path, description = "the bot", example = "support")), responses((status = 200, description = "resumed", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    Path(bot): Path<String>,
) -> Result<Json<Value>, Error> {
    switch(state, bot, false).await
}

/// Pauses or resumes `bot`: `{bot, paused, changed}`.
async fn switch(state: AppState, bot: String, paused: bool) -> Result<Json<Value>, Error> {
    known(&state, &bot)?;
    state
        .blocking(move |rt| {
            let changed = rt.set_paused(&bot, paused)?;
            Ok(Json(
                json!({ "bot": bot, "paused": paused, "changed": changed }),
            ))
        })
        .await
}
