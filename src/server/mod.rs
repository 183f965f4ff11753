//! The HTTP API (README, HTTP API): one file per resource. [`serve`] takes a bound listener
//! and a shutdown future, so tests run the real server on port 0 and stop it.

#![warn(missing_docs)]

mod approvals;
mod bots;
mod conversations;
mod designer;
mod edge;
mod error;
mod events;
pub(crate) mod extract;
mod health;
pub mod ratelimit;
mod schedules;
mod templates;
mod workflows;

use std::future::Future;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{self, Next};
use axum::routing::get;
use axum::{Json, Router};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Error;
use crate::workflow::same_secret;
use crate::workflow::Runtime;
pub use edge::HeadLimits;
pub use error::status_of;
use extract::Bearer;

/// Server settings beyond the runtime's.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Without it the server is in development mode (everything open, loopback only).
    pub admin_token: Option<String>,
    /// The largest message to a conversation (bytes).
    pub max_message_bytes: usize,
    /// The largest event payload (bytes).
    pub max_event_payload_bytes: usize,
    /// Whether Redis is configured (`/health` says `off` without).
    pub redis_url: Option<String>,
    /// The limits on a request's URI and headers (414 and 431 over them).
    pub head_limits: HeadLimits,
    /// The per-client limit of the public routes (none: unlimited).
    pub public_rate: Option<Arc<ratelimit::RateLimit>>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            admin_token: None,
            max_message_bytes: 64 * 1024,
            max_event_payload_bytes: 256 * 1024,
            redis_url: None,
            head_limits: HeadLimits::default(),
            public_rate: None,
        }
    }
}

/// How many starts with an `Idempotency-Key` run at once on an instance. Each holds a
/// pooled connection (the lock on its key) while its workflow starts on others, so
/// without a bound a burst of them could take the whole pool and wait for itself.
const KEYED_STARTS_AT_ONCE: usize = 4;

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    /// The runtime the handlers act on.
    pub rt: Arc<Runtime>,
    /// The server's settings.
    pub config: Arc<ServerConfig>,
    /// Room for starts with an `Idempotency-Key` (see [`KEYED_STARTS_AT_ONCE`]).
    pub keyed_starts: Arc<tokio::sync::Semaphore>,
    /// The console's keys and figures.
    pub console: Arc<crate::console::Console>,
}

impl AppState {
    /// The state of a server on `rt` with `config`.
    pub fn new(rt: Arc<Runtime>, config: ServerConfig) -> AppState {
        AppState {
            rt,
            console: Arc::new(crate::console::Console::new(config.admin_token.as_deref())),
            config: Arc::new(config),
            keyed_starts: Arc::new(tokio::sync::Semaphore::new(KEYED_STARTS_AT_ONCE)),
        }
    }

    /// True when the request carries the admin token (or there is none to carry).
    pub fn is_admin(&self, bearer: &Bearer) -> bool {
        match (&self.config.admin_token, &bearer.0) {
            (None, _) => true,
            (Some(admin), Some(t)) => same_secret(admin, t),
            (Some(_), None) => false,
        }
    }

    /// Runs blocking work (database, script runs) off the async threads.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Runtime) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let rt = self.rt.clone();
        tokio::task::spawn_blocking(move || f(&rt))
            .await
            .map_err(|e| Error::Internal(format!("worker task failed: {e}")))?
    }
}

async fn require_admin(
    axum::extract::State(state): axum::extract::State<AppState>,
    bearer: Bearer,
    req: axum::extract::Request,
    next: Next,
) -> Result<axum::response::Response, Error> {
    if !state.is_admin(&bearer) {
        return Err(match bearer.0 {
            None => Error::Unauthorized(
                "this route needs the admin token (Authorization: Bearer …)".into(),
            ),
            Some(_) => Error::Forbidden("this token is not the admin token".into()),
        });
    }
    Ok(next.run(req).await)
}

/// The routes of the API, with its OpenAPI description made from the same handlers (each
/// handler's `#[utoipa::path]`), so the description cannot list a route the router does
/// not have, or miss one. The description is served at `/api/openapi.json`.
pub fn router(state: AppState) -> Router {
    let (admin, admin_api) = OpenApiRouter::new()
        .routes(routes!(health::metrics))
        .routes(routes!(bots::list))
        .routes(routes!(bots::memory))
        .routes(routes!(bots::shared))
        .routes(routes!(bots::memory_key))
        .routes(routes!(bots::pause))
        .routes(routes!(bots::resume))
        .routes(routes!(bots::tables))
        .routes(routes!(bots::table))
        .routes(routes!(designer::graph))
        .routes(routes!(designer::edits))
        .routes(routes!(designer::save))
        .routes(routes!(templates::list))
        .routes(routes!(templates::create))
        .routes(routes!(workflows::start, workflows::list))
        .routes(routes!(workflows::detail))
        .routes(routes!(workflows::result))
        .routes(routes!(workflows::cancel))
        .routes(routes!(workflows::retry))
        .routes(routes!(approvals::list))
        .routes(routes!(events::publish, events::list))
        .routes(routes!(schedules::list))
        .split_for_parts();
    let admin = admin.route_layer(middleware::from_fn_with_state(state.clone(), require_admin));
    // Public: health, starting a conversation, and the conversation's own calls (its
    // unguessable id is its capability); approvals check their own token.
    let (public, public_api) = OpenApiRouter::new()
        .routes(routes!(conversations::start))
        .routes(routes!(conversations::get))
        .routes(routes!(conversations::message))
        .routes(routes!(approvals::decide))
        .split_for_parts();
    let public = public.route_layer(middleware::from_fn_with_state(
        state.config.public_rate.clone(),
        ratelimit::limit,
    ));
    let (health, health_api) = OpenApiRouter::new()
        .routes(routes!(health::health))
        .split_for_parts();
    let mut api = admin_api;
    api.merge(public_api);
    api.merge(health_api);
    api.info.title = "botserver".to_string();
    api.info.description = Some(
        "The HTTP API of botserver: bots, conversations, workflows, approvals, events, \
         schedules. Every error is {\"error\", \"message\"} JSON."
            .to_string(),
    );
    let api = Arc::new(api);
    let head_limits = state.config.head_limits;
    admin
        .merge(public)
        .merge(health)
        .merge(crate::console::router(state.clone()))
        .route(
            "/api/openapi.json",
            get(move || {
                let api = api.clone();
                async move { Json((*api).clone()) }
            }),
        )
        .fallback(edge::no_route)
        .method_not_allowed_fallback(edge::no_method)
        .layer(DefaultBodyLimit::max(1 << 20))
        .layer(middleware::from_fn_with_state(
            head_limits,
            edge::head_limits,
        ))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::console::stats::spawn_sampler(&state.rt, state.console.series.clone());
    if let Some(limit) = state.config.public_rate.clone() {
        // Clients that stopped coming are forgotten now and then.
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                limit.forget_idle();
            }
        });
    }
    edge::serve(listener, router(state), shutdown).await
}
