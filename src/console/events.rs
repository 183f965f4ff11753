//! The events page: the latest events (a name filter), new ones arriving live, and a
//! form to publish one.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::view;
use super::{back_to, render, Form, PageError, Viewer};
use crate::basic::keywords::events::{event_name_error, valid_event_name};
use crate::db::events::{self, EventRow};
use crate::server::extract::Query;
use crate::server::AppState;

/// One event as the page lists it.
pub struct EventView {
    pub id: i64,
    pub name: String,
    pub payload: String,
    pub source: String,
    pub at: String,
}

/// The row of an event.
pub fn event_view(e: &EventRow) -> EventView {
    EventView {
        id: e.id,
        name: e.name.clone(),
        payload: view::json_line(&e.payload, 400),
        source: match (&e.source_bot, &e.source_execution) {
            (Some(b), Some(x)) => format!("{b} ({})", &x.to_string()[..8]),
            (Some(b), None) => b.clone(),
            (None, _) => "API".into(),
        },
        at: view::time(&e.created_at),
    }
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    viewer: Viewer,
    name: String,
    events: Vec<EventView>,
    cursor: i64,
    notice: String,
}

/// `GET /events` filters.
#[derive(Deserialize, Default)]
pub struct EventsQuery {
    #[serde(default)]
    name: String,
    #[serde(default)]
    notice: String,
}

/// How many of the latest events the page shows.
const SHOWN: i64 = 100;

/// `GET /events[?name=]`: the latest events, newest first; the page's stream adds new
/// ones at the top.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<EventsQuery>,
) -> Result<Response, PageError> {
    let name = q.name.trim().to_string();
    let n = name.clone();
    let (rows, cursor) = state
        .blocking(move |rt| {
            let mut conn = rt.conn()?;
            let name = Some(n.as_str()).filter(|n| !n.is_empty());
            let rows = events::latest(&mut conn, name, SHOWN)?;
            let cursor = events::newest_id(&mut conn)?;
            Ok((rows, cursor))
        })
        .await?;
    render(&EventsPage {
        viewer,
        name,
        events: rows.iter().map(event_view).collect(),
        cursor,
        notice: q.notice,
    })
}

/// `POST /events/publish` `name`, `payload` (JSON, empty for `{}`), `csrf`.
pub async fn publish(
    State(state): State<AppState>,
    viewer: Viewer,
    form: Form,
) -> Result<Response, PageError> {
    form.check_csrf(&viewer.csrf)?;
    let name = form.need("name")?.trim().to_string();
    if !valid_event_name(&name) {
        return Err(PageError::bad(event_name_error(&name)));
    }
    let text = form.get("payload").unwrap_or("").trim();
    let payload: serde_json::Value = if text.is_empty() {
        serde_json::json!({})
    } else {
        serde_json::from_str(text)
            .map_err(|e| PageError::bad(format!("'payload' is not JSON: {e}")))?
    };
    let size = payload.to_string().len();
    if size > state.config.max_event_payload_bytes {
        return Err(PageError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            &format!(
                "'payload' is {size} bytes; the limit is {} bytes",
                state.config.max_event_payload_bytes
            ),
        ));
    }
    let n = name.clone();
    let id = state
        .blocking(move |rt| rt.publish_event(&n, &payload))
        .await?;
    Ok(back_to(
        &form,
        "/events",
        &format!("Published '{name}' as event {id}."),
    ))
}
