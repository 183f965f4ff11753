//! Loaded bots and their memory.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::AppState;
use crate::db::memory;
use crate::error::Error;

/// `GET /api/bots`: the loaded bots and their scripts.
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
