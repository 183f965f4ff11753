//! Events: publish one, read them by name and id.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ErrorBody;
use super::extract::{JsonBody, Query};
use super::AppState;
use crate::basic::keywords::events::{event_name_error, valid_event_name};
use crate::db::events;
use crate::error::Error;

/// The body of a publish.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    name: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    payload: Value,
}

/// `POST /api/events` `{name, payload}`: publishes an event (waits woken, handlers started).
#[utoipa::path(post, path = "/api/events", tag = "events", request_body = PublishBody, responses((status = 201, description = "published", body = Object), (status = 413, description = "too large", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<PublishBody>,
) -> Result<(StatusCode, Json<Value>), Error> {
    if !valid_event_name(&body.name) {
        return Err(Error::BadRequest(event_name_error(&body.name)));
    }
    let size = body.payload.to_string().len();
    if size > state.config.max_event_payload_bytes {
        return Err(Error::TooLarge(format!(
            "'payload' is {size} bytes; the limit is {} bytes",
            state.config.max_event_payload_bytes
        )));
    }
    let id = state
        .rt
        .publish_event_async(&body.name, &body.payload)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// `GET /api/events` filters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    name: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/events[?name=&after=&limit=]`: stored events, oldest first.
#[utoipa::path(get, path = "/api/events", tag = "events", params(ListQuery), responses((status = 200, description = "events", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, Error> {
    state
        .blocking(move |rt| {
            let rows = events::list(
                &mut *rt.conn()?,
                q.name.as_deref(),
                q.after.unwrap_or(0),
                q.limit.unwrap_or(100).clamp(1, 1000),
            )?;
            Ok(Json(json!({ "events": rows })))
        })
        .await
}
