//! A script's graph (the designer's model of it): nodes with their kind, label and source
//! lines, edges, and with `execution` each node's status in that execution.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::error::ErrorBody;
use super::extract::{parse_id, Path, Query};
use super::AppState;
use crate::error::Error;

/// `GET …/graph` options.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GraphQuery {
    /// An execution of the script whose step statuses the nodes carry.
    execution: Option<String>,
}

/// `GET /api/bots/{bot}/scripts/{script}/graph[?execution=ID]`: the script's graph.
/// Without `execution` each node carries `at`: how many running executions stand at it.
#[utoipa::path(get, path = "/api/bots/{bot}/scripts/{script}/graph", tag = "bots", params(("bot" = String, Path, description = "the bot", example = "customer-support-workflow"), ("script" = String, Path, description = "the script (file stem)", example = "start"), GraphQuery), responses((status = 200, description = "nodes and edges", body = Object), (status = 400, description = "bad input, or a script that does not parse", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn graph(
    State(state): State<AppState>,
    Path((bot, script)): Path<(String, String)>,
    Query(q): Query<GraphQuery>,
) -> Result<Json<Value>, Error> {
    let execution = q
        .execution
        .as_deref()
        .map(|e| parse_id(e, "execution"))
        .transpose()?;
    state
        .blocking(move |rt| {
            let d = crate::designer::drawn(rt, &bot, &script)?;
            let o = crate::designer::overlay(rt, &d.graph, &bot, &script, execution)?;
            Ok(Json(crate::designer::drawn_json(&d, Some(&o))))
        })
        .await
}

/// The body of `POST …/edits`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditsBody {
    /// The edits, applied in order (see docs/designer.md).
    #[schema(value_type = Vec<Object>)]
    edits: Vec<crate::designer::edit::Edit>,
    /// The text to edit (an unsaved version); the script as loaded when absent.
    #[serde(default)]
    source: Option<String>,
}

/// `POST /api/bots/{bot}/scripts/{script}/edits` `{edits, source?}`: the script (or
/// `source`, an unsaved version of it) as the edits would leave it, without saving:
/// `{source, diagnostics, graph}`. An empty list gives the text back unchanged.
#[utoipa::path(post, path = "/api/bots/{bot}/scripts/{script}/edits", tag = "bots", params(("bot" = String, Path, description = "the bot", example = "customer-support-workflow"), ("script" = String, Path, description = "the script (file stem)", example = "start")), request_body = EditsBody, responses((status = 200, description = "the edited source, its diagnostics and graph", body = Object), (status = 400, description = "bad input, or an edit that does not apply", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn edits(
    State(state): State<AppState>,
    Path((bot, script)): Path<(String, String)>,
    super::extract::JsonBody(body): super::extract::JsonBody<EditsBody>,
) -> Result<Json<Value>, Error> {
    if body.edits.len() > 100 {
        return Err(Error::BadRequest(format!(
            "at most 100 edits at once, not {}",
            body.edits.len()
        )));
    }
    state
        .blocking(move |rt| {
            let p = crate::designer::preview(rt, &bot, &script, body.source, &body.edits)?;
            let graph = p
                .graph
                .as_ref()
                .map(|g| crate::designer::graph_json(g, None));
            Ok(Json(serde_json::json!({
                "source": p.source, "diagnostics": p.diagnostics, "graph": graph,
            })))
        })
        .await
}

/// The body of a save.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveBody {
    /// The whole new text of the script.
    source: String,
    /// The `hash` of the version the edit started from (from the graph).
    base: String,
}

/// `PUT /api/bots/{bot}/scripts/{script}` `{source, base}`: saves the script into its
/// package on disk and loads it again → `{hash, running_on_previous}`. A file changed
/// on disk since `base` is a 409; a source with errors is a 400 and is not saved.
#[utoipa::path(put, path = "/api/bots/{bot}/scripts/{script}", tag = "bots", params(("bot" = String, Path, description = "the bot", example = "customer-support-workflow"), ("script" = String, Path, description = "the script (file stem)", example = "start")), request_body = SaveBody, responses((status = 200, description = "saved", body = Object), (status = 400, description = "bad input, or a script with errors", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 409, description = "changed on disk since it was opened", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn save(
    State(state): State<AppState>,
    Path((bot, script)): Path<(String, String)>,
    super::extract::JsonBody(body): super::extract::JsonBody<SaveBody>,
) -> Result<Json<Value>, Error> {
    state
        .blocking(move |rt| {
            let saved = crate::designer::save(rt, &bot, &script, &body.source, &body.base)?;
            Ok(Json(serde_json::json!({
                "hash": saved.hash, "running_on_previous": saved.on_previous,
            })))
        })
        .await
}
