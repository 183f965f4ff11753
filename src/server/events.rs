//! Events: publish one, read them by name and id.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{JsonBody, Query};
use super::AppState;
use crate::basic::keywords::events::{event_name_error, valid_event_name};
use crate::db::events;
use crate::error::Error;

/// The body of a publish.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    name: String,
    #[serde(default)]
    payload: Value,
}

/// `POST /api/events` `{name, payload}`: publishes an event (waits woken, handlers started).
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
        .blocking(move |rt| rt.publish_event(&body.name, &body.payload))
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// `GET /api/events` filters.
#[derive(Deserialize)]
pub struct ListQuery {
    name: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/events[?name=&after=&limit=]`: stored events, oldest first.
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
