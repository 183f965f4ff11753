//! Workflows: start, list, inspect, await the result, cancel, retry.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use diesel::Connection;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::ErrorBody;
use super::extract::{parse_id, parse_status, JsonBody, OptionalJsonBody, Path, Query};
use super::AppState;
use crate::db::executions::{self, ExecRow};
use crate::db::states::{Direction, ExecKind, ExecStatus};
use crate::db::{messages, start_keys, steps};
use crate::error::Error;
use crate::workflow::ops::RetryVersion;

/// The body of `POST /api/workflows`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    bot: String,
    script: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    input: Value,
}

/// `POST /api/workflows` `{bot, script, input}`: starts a workflow (its first run before
/// the answer when there is room) → 201. With an `Idempotency-Key` header, a repeat of
/// the same request (bot, script and input) is the workflow the key first started → 200
/// with its current status; the key with another request is a 422.
#[utoipa::path(post, path = "/api/workflows", tag = "workflows", request_body = StartBody, params(("Idempotency-Key" = Option<String>, Header, description = "makes a repeated start answer the first one")), responses((status = 201, description = "started", body = Object), (status = 200, description = "a repeat of a keyed start", body = Object), (status = 409, description = "conflict", body = ErrorBody), (status = 422, description = "key reused", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<StartBody>,
) -> Result<(StatusCode, Json<Value>), Error> {
    let Some(key) = idempotency_key(&headers)? else {
        let (id, status) = state
            .blocking(move |rt| rt.start_workflow(&body.bot, &body.script, body.input))
            .await?;
        return Ok((
            StatusCode::CREATED,
            Json(json!({ "id": id, "status": status })),
        ));
    };
    let hash = request_hash(&body);
    let _room = state
        .keyed_starts
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| Error::Internal(format!("keyed starts: {e}")))?;
    let (created, id, status) = state
        .blocking(move |rt| start_keyed(rt, &key, &hash, body))
        .await?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(json!({ "id": id, "status": status }))))
}

/// The longest `Idempotency-Key` taken.
const MAX_KEY_CHARS: usize = 255;

/// The request's `Idempotency-Key`, if it has one: 1 to 255 visible ASCII characters
/// (spaces inside allowed).
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Error> {
    let mut values = headers.get_all("idempotency-key").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Error::BadRequest(
            "give one 'Idempotency-Key' header, not several".into(),
        ));
    }
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| {
            !k.is_empty()
                && k.len() <= MAX_KEY_CHARS
                && k.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        })
        .ok_or_else(|| {
            Error::BadRequest(format!(
                "'Idempotency-Key' must be 1 to {MAX_KEY_CHARS} visible ASCII characters"
            ))
        })?;
    Ok(Some(key.to_string()))
}

/// What makes two starts the same request: bot, script and input (a missing input is
/// `{}`), hashed over JSON with its keys sorted, so the order a client wrote them in
/// does not matter.
fn request_hash(body: &StartBody) -> String {
    let input = if body.input.is_null() {
        json!({})
    } else {
        body.input.clone()
    };
    let mut text = String::new();
    canonical_json(
        &json!({ "bot": body.bot, "script": body.script, "input": input }),
        &mut text,
    );
    crate::basic::content_hash(&text)
}

fn canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(k) {
                    canonical_json(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A start under `key` (see `db::start_keys` for the protocol): the key is bound to the
/// request and a new id and committed; then, holding the key's row lock, the workflow of
/// that id is looked for and started only if it is not there. Whether it was started
/// now, its id and its status.
fn start_keyed(
    rt: &crate::workflow::Runtime,
    key: &str,
    hash: &str,
    body: StartBody,
) -> Result<(bool, Uuid, ExecStatus), Error> {
    let mut conn = rt.conn()?;
    start_keys::record(&mut conn, key, hash, Uuid::now_v7())?;
    conn.transaction::<_, Error, _>(|conn| {
        let bound = start_keys::lock(conn, key)?.ok_or_else(|| {
            Error::Internal(format!("Idempotency-Key '{key}' was recorded but is gone"))
        })?;
        if bound.request_hash != hash {
            return Err(Error::IdempotencyKeyReused(format!(
                "Idempotency-Key '{key}' was used for another request (another bot, script or \
                 input); a different request needs a new key"
            )));
        }
        if let Some(e) = executions::get(conn, bound.execution_id)? {
            return Ok((false, e.id, e.status));
        }
        let (id, status) =
            rt.start_workflow_as(bound.execution_id, &body.bot, &body.script, body.input)?;
        Ok((true, id, status))
    })
}

/// `GET /api/workflows` filters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    status: Option<String>,
    bot: Option<String>,
    name: Option<String>,
    limit: Option<i64>,
    after: Option<String>,
}

fn summary(e: &ExecRow) -> Value {
    json!({
        "id": e.id, "bot": e.bot, "name": e.name, "script": e.script, "status": e.status,
        "waiting_for": e.waiting_for, "created_at": e.created_at, "finished_at": e.finished_at,
    })
}

/// The most rows one page of `GET /api/workflows` gives (and its default).
const LIST_MAX: i64 = 1000;
const LIST_DEFAULT: i64 = 100;

/// `GET /api/workflows[?status=&bot=&name=&limit=&after=]`: workflows, newest first, one
/// page of at most `limit` (default 100, at most 1000); `next` is the `after` of the next
/// page, null on the last one.
#[utoipa::path(get, path = "/api/workflows", tag = "workflows", params(ListQuery), responses((status = 200, description = "workflows, newest first", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, Error> {
    let status = q.status.as_deref().map(parse_status).transpose()?;
    let limit = q.limit.unwrap_or(LIST_DEFAULT);
    if !(1..=LIST_MAX).contains(&limit) {
        return Err(Error::BadRequest(format!(
            "'limit' must be between 1 and {LIST_MAX}, not {limit}"
        )));
    }
    let after = q
        .after
        .as_deref()
        .map(|a| parse_id(a, "workflow"))
        .transpose()?;
    state
        .blocking(move |rt| {
            let filter = executions::ListFilter {
                status,
                bot: q.bot.as_deref(),
                name: q.name.as_deref(),
                after,
                ..Default::default()
            };
            let rows = executions::list(&mut *rt.conn()?, &[ExecKind::Workflow], &filter, limit)?;
            // A full page may have a next one; a short page is the last.
            let next = (rows.len() as i64 == limit)
                .then(|| rows.last().map(|r| r.id))
                .flatten();
            Ok(Json(json!({
                "workflows": rows.iter().map(summary).collect::<Vec<_>>(),
                "next": next,
            })))
        })
        .await
}

fn load(rt: &crate::workflow::Runtime, id: Uuid) -> Result<ExecRow, Error> {
    executions::get(&mut *rt.conn()?, id)?
        .ok_or_else(|| Error::NotFound(format!("no workflow {id}")))
}

/// The executions `id` started, each with its own `children` (the rows of
/// [`executions::tree`]), oldest first.
fn child_tree(rows: &[ExecRow], id: Uuid) -> Vec<Value> {
    let mut by_parent: HashMap<Uuid, Vec<&ExecRow>> = HashMap::new();
    for r in rows {
        if let Some(p) = r.parent_id {
            by_parent.entry(p).or_default().push(r);
        }
    }
    fn level(by_parent: &HashMap<Uuid, Vec<&ExecRow>>, id: Uuid, depth: usize) -> Vec<Value> {
        // The tree is finite (parents exist before their children); the bound only
        // keeps a corrupted table from recursing without end.
        if depth > 64 {
            return Vec::new();
        }
        by_parent
            .get(&id)
            .into_iter()
            .flatten()
            .map(|c| {
                json!({ "id": c.id, "kind": c.kind, "bot": c.bot, "name": c.name, "status": c.status,
                        "waiting_for": c.waiting_for, "result": c.result, "error": c.error,
                        "children": level(by_parent, c.id, depth + 1) })
            })
            .collect()
    }
    level(&by_parent, id, 0)
}

/// `GET /api/workflows/{id}`: status, waiting_for, variables, steps, children (each with
/// its own children: the whole tree), output, error.
#[utoipa::path(get, path = "/api/workflows/{id}", tag = "workflows", params(("id" = String, Path, description = "the id")), responses((status = 200, description = "the workflow", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let id = parse_id(&id, "workflow")?;
    state
        .blocking(move |rt| {
            let mut conn = rt.conn()?;
            let e = executions::get(&mut conn, id)?.ok_or_else(|| Error::NotFound(format!("no workflow {id}")))?;
            let steps = steps::steps(&mut conn, id)?;
            let children = child_tree(&executions::tree(&mut conn, id)?, id);
            let output: Vec<String> = messages::messages(&mut conn, id, 0)?
                .into_iter()
                .filter(|m| m.direction == Direction::Bot)
                .map(|m| m.text)
                .collect();
            Ok(Json(json!({
                "id": e.id, "kind": e.kind, "bot": e.bot, "name": e.name, "script": e.script, "status": e.status,
                "waiting_for": e.waiting_for, "input": e.input, "variables": e.variables, "result": e.result,
                "error": e.error, "steps": steps, "children": children, "output": output,
                "parent_id": e.parent_id, "conversation_id": e.conversation_id,
                "created_at": e.created_at, "updated_at": e.updated_at, "finished_at": e.finished_at,
            })))
        })
        .await
}

/// `GET /api/workflows/{id}/result` options.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultQuery {
    timeout: Option<f64>,
}

/// Long poll: answers when the workflow ends or the timeout (default 30 s) passes.
#[utoipa::path(get, path = "/api/workflows/{id}/result", tag = "workflows", params(("id" = String, Path, description = "the id"), ResultQuery), responses((status = 200, description = "its end, or its state at the timeout", body = Object), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn result(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ResultQuery>,
) -> Result<Json<Value>, Error> {
    let id = parse_id(&id, "workflow")?;
    let timeout = q.timeout.unwrap_or(30.0);
    if !(0.0..=300.0).contains(&timeout) {
        return Err(Error::BadRequest(
            "'timeout' must be between 0 and 300 seconds".into(),
        ));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(timeout);
    // Subscribe before the first look so that an end in between is not missed.
    let mut finished = state.rt.bus.finished.subscribe();
    loop {
        if let Some(result) = state.rt.recent_result(id) {
            return Ok(Json(
                json!({ "id": id, "status": ExecStatus::Completed, "result": result, "error": null }),
            ));
        }
        let e = state.blocking(move |rt| load(rt, id)).await?;
        if e.status.is_terminal() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(
                json!({ "id": e.id, "status": e.status, "result": e.result, "error": e.error }),
            ));
        }
        // Ends on this instance are announced; ends elsewhere are seen by the periodic look.
        let tick = tokio::time::sleep_until(
            deadline.min(tokio::time::Instant::now() + Duration::from_millis(200)),
        );
        tokio::pin!(tick);
        loop {
            tokio::select! {
                _ = &mut tick => break,
                msg = finished.recv() => match msg {
                    Ok(done) if done == id => break,
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(_) => break,
                },
            }
        }
    }
}

/// `POST /api/workflows/{id}/cancel`: cancels it and everything it started.
#[utoipa::path(post, path = "/api/workflows/{id}/cancel", tag = "workflows", params(("id" = String, Path, description = "the id")), responses((status = 200, description = "cancelled", body = Object), (status = 409, description = "already ended", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let id = parse_id(&id, "workflow")?;
    state.blocking(move |rt| rt.cancel(id)).await?;
    Ok(Json(json!({ "id": id, "status": ExecStatus::Cancelled })))
}

/// The body of a retry: `{"version": "latest" | "pinned"}`, all optional (an empty body
/// is `latest`).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryBody {
    #[serde(default)]
    #[schema(value_type = String)]
    version: RetryVersion,
}

/// `POST /api/workflows/{id}/retry` `[{version}]`: runs a failed workflow again from its
/// failed step, on the newest script versions (`latest`, the default) or on those it ran
/// (`pinned`).
#[utoipa::path(post, path = "/api/workflows/{id}/retry", tag = "workflows", params(("id" = String, Path, description = "the id")), request_body(content = Option<RetryBody>, description = "optional"), responses((status = 200, description = "retried", body = Object), (status = 409, description = "not failed", body = ErrorBody), (status = 400, description = "bad input", body = ErrorBody), (status = 404, description = "unknown", body = ErrorBody), (status = 503, description = "database unavailable", body = ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<RetryBody>,
) -> Result<Json<Value>, Error> {
    let id = parse_id(&id, "workflow")?;
    let version = body.version;
    state.blocking(move |rt| rt.retry(id, version)).await?;
    Ok(Json(
        json!({ "id": id, "status": ExecStatus::Running, "version": version }),
    ))
}
