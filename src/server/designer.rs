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
            if let Some(id) = execution {
                if !crate::designer::runs_script(rt, id, &bot, &script)? {
                    return Err(Error::BadRequest(format!(
                        "execution {id} does not run {bot}/{script}.bas"
                    )));
                }
            }
            let o = crate::designer::overlay(rt, &d.graph, &bot, &script, execution)?;
            Ok(Json(crate::designer::graph_json(&d.graph, Some(&o))))
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
}

/// `POST /api/bots/{bot}/scripts/{script}/edits` `{edits}`: the script as the edits would
/// leave it, without saving: `{source, diagnostics, graph}`. An empty list gives the file
/// back unchanged.
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
            let d = crate::designer::drawn(rt, &bot, &script)?;
            let source = crate::designer::edit::apply(
                &d.source,
                &body.edits,
                &crate::designer::edit::parse_graph,
            )
            .map_err(Error::BadRequest)?;
            let diagnostics = crate::designer::diagnostics(rt, &source);
            let graph = crate::designer::edit::parse_graph(&source)
                .ok()
                .map(|g| crate::designer::graph_json(&g, None));
            Ok(Json(serde_json::json!({
                "source": source, "diagnostics": diagnostics, "graph": graph,
            })))
        })
        .await
}
