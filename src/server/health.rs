//! `GET /health` and `GET /metrics` (Prometheus text format).

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value as Json_};

use super::AppState;

/// `GET /health`: `{status, database, redis}`; 200 when `status` is `ok`, 503 when it is
/// `degraded` (the database does not answer, or Redis is configured and down), so a load
/// balancer's health check sees it.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, description = "healthy", body = Object), (status = 503, description = "degraded", body = Object)))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Json_>) {
    let db = state
        .blocking(|rt| {
            use diesel::RunQueryDsl;
            let mut conn = rt.conn()?;
            diesel::sql_query("SELECT 1").execute(&mut conn)?;
            Ok(())
        })
        .await;
    let database = match db {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("error: {e}"),
    };
    let redis = state.rt.bus.redis();
    let healthy = database == "ok" && redis != crate::wakeup::RedisState::Down;
    let (code, status) = if healthy {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "degraded")
    };
    (
        code,
        Json(json!({ "status": status, "database": database, "redis": redis.as_str() })),
    )
}

/// `GET /metrics`: the runtime's counters as Prometheus text.
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "Prometheus text", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let m = &state.rt.metrics;
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, v: u64| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n"
        ));
    };
    counter(
        "botserver_runs_total",
        "Runs (replays) of executions.",
        m.runs.load(Ordering::Relaxed),
    );
    counter(
        "botserver_executions_completed_total",
        "Executions completed.",
        m.completed.load(Ordering::Relaxed),
    );
    counter(
        "botserver_executions_failed_total",
        "Executions failed.",
        m.failed.load(Ordering::Relaxed),
    );
    counter(
        "botserver_suspends_total",
        "Runs that suspended.",
        m.suspended.load(Ordering::Relaxed),
    );
    counter(
        "botserver_runs_abandoned_total",
        "Runs abandoned and retried.",
        m.aborted.load(Ordering::Relaxed),
    );
    counter(
        "botserver_runs_group_committed_total",
        "Runs whose outcome was written by the group commit (with other runs', in one transaction).",
        m.group_committed.load(Ordering::Relaxed),
    );
    counter(
        "botserver_runs_optimistic_given_up_total",
        "Runs tried through the group commit and given up, for a transaction of their own, at a keyword that uses the database.",
        m.optimistic_given_up.load(Ordering::Relaxed),
    );
    counter(
        "botserver_events_published_batched_total",
        "Events published through the API and written with others, in one transaction (batches of two or more).",
        state.rt.publisher.batched(),
    );
    counter(
        "botserver_script_compiles_total",
        "Script compilations.",
        state.rt.cache.compile_count(),
    );
    let running = state.rt.running.lock().map(|r| r.len()).unwrap_or(0);
    out.push_str(&format!(
        "# HELP botserver_runs_in_progress Runs in progress.\n# TYPE botserver_runs_in_progress gauge\nbotserver_runs_in_progress {running}\n"
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
