//! Server-sent event streams that keep open pages current. A stream says *when* to
//! refresh (`changed`), and the page asks for its part again with htmx (the same
//! handler renders the page and the part). The events page gets its new rows in the
//! stream itself.
//!
//! Streams look at the database every [`LOOK_MS`], so a change made by any instance is
//! seen; this instance's own ends are seen at once through its bus.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream};
use serde::Deserialize;

use super::events::{event_view, EventView};
use super::PageError;
use crate::db::{events, executions};
use crate::server::extract::{Path, Query};
use crate::server::AppState;

/// How often a stream looks for changes.
const LOOK_MS: u64 = 500;

type Events = Response;

fn sse(s: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Events {
    Sse::new(s)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// `GET /workflows/{id}/live`: `changed` whenever the workflow or anything under it
/// moves (a newer `updated_at`, or a new child).
pub async fn workflow(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Events, PageError> {
    let id = crate::server::extract::parse_id(id.trim(), "workflow")?;
    let first = state
        .blocking(move |rt| executions::tree_mark(&mut *rt.conn()?, id))
        .await?;
    if first.is_none() {
        return Err(crate::error::Error::NotFound(format!("no workflow {id}")).into());
    }
    let finished = state.rt.bus.finished.subscribe();
    let s = stream::unfold(
        (state, first, finished),
        move |(state, mut last, mut finished)| async move {
            loop {
                let tick = tokio::time::sleep(Duration::from_millis(LOOK_MS));
                tokio::pin!(tick);
                tokio::select! {
                    _ = &mut tick => {}
                    _ = finished.recv() => {}
                }
                let now = state
                    .blocking(move |rt| executions::tree_mark(&mut *rt.conn()?, id))
                    .await
                    .ok()
                    .flatten();
                if now.is_some() && now != last {
                    last = now;
                    let ev = Event::default().event("changed").data("changed");
                    return Some((Ok(ev), (state, last, finished)));
                }
            }
        },
    );
    Ok(sse(s))
}

/// `GET /live`: `changed` when this instance ran something since the last look, or a
/// new interval of figures is in.
pub async fn overview(State(state): State<AppState>) -> Events {
    let mark = |state: &AppState| {
        (
            state.rt.metrics.runs.load(Ordering::Relaxed),
            state.console.series.last_at(),
        )
    };
    let last = mark(&state);
    let s = stream::unfold((state, last), move |(state, mut last)| async move {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let now = mark(&state);
            if now != last {
                last = now;
                let ev = Event::default().event("changed").data("changed");
                return Some((Ok(ev), (state, last)));
            }
        }
    });
    sse(s)
}

/// `GET /events/live` filters: the name, and the newest id the page already shows.
#[derive(Deserialize, Default)]
pub struct EventsLiveQuery {
    #[serde(default)]
    name: String,
    #[serde(default)]
    after: i64,
}

#[derive(Template)]
#[template(path = "event_row.html")]
struct EventRowPart {
    e: EventView,
}

/// `GET /events/live[?name=&after=]`: each new event as an `event` carrying its table row.
pub async fn events(State(state): State<AppState>, Query(q): Query<EventsLiveQuery>) -> Events {
    let name = Some(q.name.trim().to_string()).filter(|n| !n.is_empty());
    let s = stream::unfold(
        (state, q.after, std::collections::VecDeque::<Event>::new()),
        move |(state, mut after, mut ready)| {
            let name = name.clone();
            async move {
                loop {
                    if let Some(ev) = ready.pop_front() {
                        return Some((Ok(ev), (state, after, ready)));
                    }
                    tokio::time::sleep(Duration::from_millis(LOOK_MS)).await;
                    let n = name.clone();
                    let rows = state
                        .blocking(move |rt| {
                            events::list(&mut *rt.conn()?, n.as_deref(), after, 100)
                        })
                        .await
                        .unwrap_or_default();
                    for r in rows {
                        after = after.max(r.id);
                        let html = EventRowPart { e: event_view(&r) }
                            .render()
                            .unwrap_or_default();
                        ready.push_back(Event::default().event("event").data(html));
                    }
                }
            }
        },
    );
    sse(s)
}
