//! The console: server-rendered HTML pages over the same runtime as the API, at `/`
//! (the API stays under `/api`). Pages are [askama] templates (`templates/`), checked
//! against their structs when the server is compiled; htmx (embedded, `assets/vendor/`)
//! swaps the parts that change, and server-sent events tell an open page when to.
//! Every page works without JavaScript: links, plain forms and redirects.
//!
//! One file per page family: `overview.rs`, `workflows.rs`, `approvals.rs`,
//! `events.rs`, `bots.rs` (and conversations); `auth.rs` (login, session cookie,
//! CSRF), `live.rs` (the event streams), `stats.rs` (the overview's figures over time),
//! `assets.rs` (the embedded files), `view.rs` (formatting shared by the templates).

#![warn(missing_docs)]

mod approvals;
mod assets;
pub mod auth;
mod bots;
mod designer;
mod events;
mod live;
mod overview;
pub mod stats;
mod view;
mod workflows;

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::error::Error;
use crate::server::AppState;

/// What the console keeps beside the API's state.
pub struct Console {
    /// The keys of sessions and CSRF tokens.
    pub keys: auth::Keys,
    /// The overview's figures over the last minutes.
    pub series: Arc<stats::Series>,
}

impl Console {
    /// The console of a server with this admin token (none: development mode).
    pub fn new(admin_token: Option<&str>) -> Console {
        Console {
            keys: auth::Keys::new(admin_token),
            series: Arc::new(stats::Series::default()),
        }
    }
}

/// The console's routes. Pages need a session (or the admin token as a bearer) when an
/// admin token is set; the login form, the assets and the approver's page do not.
pub fn router(state: AppState) -> Router<AppState> {
    let guarded = Router::new()
        .route("/", get(overview::page))
        .route("/workflows", get(workflows::list))
        .route("/workflows/actions", post(workflows::batch))
        .route("/workflows/{id}", get(workflows::detail))
        .route("/workflows/{id}/cancel", post(workflows::cancel))
        .route("/workflows/{id}/retry", post(workflows::retry))
        .route("/workflows/{id}/live", get(live::workflow))
        .route("/approvals", get(approvals::inbox))
        .route("/approvals/{id}/decide", post(approvals::decide))
        .route("/events", get(events::page))
        .route("/events/publish", post(events::publish))
        .route("/events/live", get(live::events))
        .route("/live", get(live::overview))
        .route("/bots", get(bots::list))
        .route("/bots/{bot}", get(bots::detail))
        .route("/bots/{bot}/pause", post(bots::pause))
        .route("/bots/{bot}/scripts", post(bots::new_script))
        .route("/bots/{bot}/resume", post(bots::resume))
        .route("/conversations/{id}", get(bots::conversation))
        .route(
            "/designer/{bot}/{script}",
            get(designer::page).post(designer::post),
        )
        .route("/designer/{bot}/{script}/preview", post(designer::preview))
        .route("/designer/{bot}/{script}/review", post(designer::review))
        .route("/designer/{bot}/{script}/save", post(designer::save))
        .route("/logout", post(auth_pages::logout))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_session,
        ));
    let approver = Router::new()
        .route(
            "/approve/{id}",
            get(approvals::approver_page).post(approvals::approver_decide),
        )
        .route_layer(middleware::from_fn_with_state(
            state.config.public_rate.clone(),
            crate::server::ratelimit::limit,
        ));
    Router::new()
        .merge(guarded)
        .merge(approver)
        .route(
            "/login",
            get(auth_pages::form).post(auth_pages::login).route_layer(
                middleware::from_fn_with_state(
                    state.config.public_rate.clone(),
                    crate::server::ratelimit::limit,
                ),
            ),
        )
        .route("/assets/{*file}", get(assets::serve))
}

/// Who is looking at a page: the CSRF token their forms carry, and whether they are
/// logged in with a session (the header then offers to log out).
#[derive(Clone, Debug)]
pub struct Viewer {
    /// The token every state-changing form of the page carries.
    pub csrf: String,
    /// A session guards the console and this viewer has one.
    pub logged_in: bool,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let keys = &state.console.keys;
        let session = auth::session_cookie(&parts.headers).filter(|s| keys.valid_session(s));
        Ok(Viewer {
            csrf: keys.csrf(session.as_deref()),
            logged_in: keys.guarded() && session.is_some(),
        })
    }
}

/// Lets a page through when the console is open (development mode), the request has a
/// valid session cookie, or it carries the admin token as a bearer. Otherwise a page
/// goes to the login form and a form post is refused.
async fn require_session(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let keys = &state.console.keys;
    if !keys.guarded() {
        return next.run(req).await;
    }
    let headers = req.headers();
    let by_cookie = auth::session_cookie(headers).is_some_and(|s| keys.valid_session(&s));
    let by_bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| keys.is_admin_token(t.trim()));
    if by_cookie || by_bearer {
        return next.run(req).await;
    }
    if req.method() == axum::http::Method::GET {
        let next_path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let to = format!("/login?next={}", view::url_encode(&next_path));
        let mut resp = Redirect::to(&to).into_response();
        // An htmx request (a live region refreshing) follows with a full page load.
        if headers.contains_key("hx-request") {
            if let Ok(v) = HeaderValue::from_str(&to) {
                resp.headers_mut().insert("hx-redirect", v);
            }
        }
        return resp;
    }
    page_error(
        StatusCode::UNAUTHORIZED,
        "Not logged in",
        "Log in with the admin token first.",
    )
}

/// A form body (`application/x-www-form-urlencoded`), every field kept in order (a
/// field may repeat: the ids of a batch), text PostgreSQL cannot store refused.
pub struct Form(pub Vec<(String, String)>);

impl Form {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The value of `name`, or a 400 naming it.
    pub fn need(&self, name: &str) -> Result<&str, PageError> {
        self.get(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| PageError::bad(format!("the form has no '{name}'")))
    }

    /// Refuses the form unless its `csrf` field is `expected`.
    pub fn check_csrf(&self, expected: &str) -> Result<(), PageError> {
        match self.get("csrf") {
            Some(t) if crate::workflow::same_secret(t, expected) => Ok(()),
            Some(_) => Err(PageError::new(
                StatusCode::FORBIDDEN,
                "Form refused",
                "The form's CSRF token is not this page's: reload the page and send it again.",
            )),
            None => Err(PageError::new(
                StatusCode::FORBIDDEN,
                "Form refused",
                "The form carries no CSRF token. Forms must be sent from the console's own pages.",
            )),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            PageError::new(
                e.status(),
                "Form refused",
                &format!("the form could not be read: {e}"),
            )
        })?;
        let fields: Vec<(String, String)> = form_urlencoded::parse(&bytes)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if let Some((k, _)) = fields
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(PageError::bad(format!(
                "field '{}' holds a NUL character, which cannot be stored",
                k.replace('\0', "\\0")
            )));
        }
        Ok(Form(fields))
    }
}

/// A page that could not be shown: its status, a title and what went wrong, rendered as
/// a page of its own (never a bare status).
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    title: String,
    message: String,
}

impl PageError {
    /// An error page.
    pub fn new(status: StatusCode, title: &str, message: &str) -> PageError {
        PageError {
            status,
            title: title.to_string(),
            message: message.to_string(),
        }
    }

    /// A 400 about the request.
    pub fn bad(message: String) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, "Bad request", &message)
    }
}

impl From<Error> for PageError {
    fn from(e: Error) -> PageError {
        let (status, _) = crate::server::status_of(&e);
        if status.is_server_error() {
            tracing::error!("console: {e}");
        }
        let title = status.canonical_reason().unwrap_or("Error");
        PageError::new(status, title, &e.to_string())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        page_error(self.status, &self.title, &self.message)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    status: u16,
}

fn page_error(status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorPage {
        title,
        message,
        status: status.as_u16(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.to_string()).into_response(),
    }
}

/// Renders a page.
pub fn render(page: &impl Template) -> Result<Response, PageError> {
    let html = page
        .render()
        .map_err(|e| Error::Internal(format!("a console template failed: {e}")))?;
    Ok(Html(html).into_response())
}

/// Where a form goes back to: its `back` field when it is a path of this site, else
/// `fallback`; with a notice for the page to show.
pub fn back_to(form: &Form, fallback: &str, notice: &str) -> Response {
    let back = form
        .get("back")
        .filter(|b| local_path(b))
        .unwrap_or(fallback);
    let sep = if back.contains('?') { '&' } else { '?' };
    let to = format!("{back}{sep}notice={}", view::url_encode(notice));
    Redirect::to(&to).into_response()
}

/// True when `p` is a path on this site: browsers read `//host` and `/\\host` as
/// another site, so a redirect to those would send the operator elsewhere.
pub fn local_path(p: &str) -> bool {
    let b = p.as_bytes();
    b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/') | Some(b'\\'))
        && !p.chars().any(|c| c.is_control())
}

/// True when an htmx request asks for a part of a page.
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

mod auth_pages {
    //! The login form and logging out.

    use askama::Template;
    use axum::extract::State;
    use axum::http::header;
    use axum::response::{IntoResponse, Redirect, Response};
    use serde::Deserialize;

    use super::{auth, render, Form, PageError};
    use crate::server::extract::Query;
    use crate::server::AppState;

    #[derive(Template)]
    #[template(path = "login.html")]
    struct LoginPage {
        csrf: String,
        next: String,
        failed: bool,
        guarded: bool,
    }

    /// The query of the login form: where to go after.
    #[derive(Deserialize)]
    pub struct LoginQuery {
        next: Option<String>,
    }

    fn safe_next(next: Option<&str>) -> String {
        next.filter(|n| super::local_path(n))
            .unwrap_or("/")
            .to_string()
    }

    /// `GET /login`.
    pub async fn form(
        State(state): State<AppState>,
        Query(q): Query<LoginQuery>,
    ) -> Result<Response, PageError> {
        render(&LoginPage {
            csrf: state.console.keys.login_csrf(),
            next: safe_next(q.next.as_deref()),
            failed: false,
            guarded: state.console.keys.guarded(),
        })
    }

    /// `POST /login` `token`: a session cookie for the admin token; a wrong token gets the
    /// form again with a 401.
    pub async fn login(State(state): State<AppState>, form: Form) -> Result<Response, PageError> {
        let keys = &state.console.keys;
        form.check_csrf(&keys.login_csrf())?;
        let next = safe_next(form.get("next"));
        if !keys.guarded() {
            return Ok(Redirect::to(&next).into_response());
        }
        let token = form.get("token").unwrap_or("").trim();
        if !keys.is_admin_token(token) {
            let mut resp = render(&LoginPage {
                csrf: keys.login_csrf(),
                next,
                failed: true,
                guarded: true,
            })?;
            *resp.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
            return Ok(resp);
        }
        let session = keys.new_session();
        Ok((
            [(header::SET_COOKIE, auth::set_cookie(&session))],
            Redirect::to(&next),
        )
            .into_response())
    }

    /// `POST /logout`: forgets the session in this browser.
    pub async fn logout(viewer: super::Viewer, form: Form) -> Result<Response, PageError> {
        form.check_csrf(&viewer.csrf)?;
        Ok((
            [(header::SET_COOKIE, auth::clear_cookie())],
            Redirect::to("/login"),
        )
            .into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_of_this_site_are_followed() {
        assert!(local_path("/workflows?status=failed"));
        assert!(local_path("/"));
        assert!(!local_path("//evil.example/x"));
        assert!(!local_path("/\\evil.example"));
        assert!(!local_path("https://evil.example"));
        assert!(!local_path("/a\nb"));
        assert!(!local_path(""));
    }
}
