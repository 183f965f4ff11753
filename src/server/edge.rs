//! The edge of the HTTP server, before any handler: the HTTP/1 connections, the limits on
//! a request's head (URI length: 414; header bytes and count: 431), and the answers for
//! an unknown route (404) and a method a route does not take (405) — all JSON errors like
//! every other.
//!
//! hyper answers a request whose head is over its own parser limits by itself, with a
//! bare status and no body, before any router sees it. So connections are served with
//! parser limits well above ours ([`PARSER_MAX_HEAD_BYTES`], [`PARSER_MAX_HEADERS`]), and
//! [`head_limits`] enforces ours with a JSON answer. Only a head beyond the parser's
//! limits (or a URI over hyper's fixed 64 KiB) still gets hyper's bare answer.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_service::Service;

use crate::error::Error;

/// The most bytes of a request's head (request line and headers) the HTTP parser takes.
pub const PARSER_MAX_HEAD_BYTES: usize = 512 * 1024;
/// The most header lines the HTTP parser takes.
pub const PARSER_MAX_HEADERS: usize = 256;

/// Our limits on a request's head, answered with a JSON 414 or 431.
#[derive(Debug, Clone, Copy)]
pub struct HeadLimits {
    /// The longest request URI (path and query), in bytes.
    pub max_uri_bytes: usize,
    /// The most bytes of all headers together (`name: value` and its line end, each).
    pub max_header_bytes: usize,
    /// The most header lines.
    pub max_headers: usize,
}

impl Default for HeadLimits {
    fn default() -> Self {
        HeadLimits {
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 32 * 1024,
            max_headers: 100,
        }
    }
}

impl HeadLimits {
    /// The limit `req`'s head is over, if any.
    fn check(&self, req: &Request) -> Result<(), Error> {
        let uri = req.uri();
        let uri_bytes = uri.path_and_query().map_or(0, |p| p.as_str().len())
            + uri.authority().map_or(0, |a| a.as_str().len());
        if uri_bytes > self.max_uri_bytes {
            return Err(Error::UriTooLong(format!(
                "the request URI is {uri_bytes} bytes; the limit is {} bytes",
                self.max_uri_bytes
            )));
        }
        let headers = req.headers();
        if headers.len() > self.max_headers {
            return Err(Error::HeadersTooLarge(format!(
                "the request has {} headers; the limit is {} headers",
                headers.len(),
                self.max_headers
            )));
        }
        let header_bytes: usize = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum();
        if header_bytes > self.max_header_bytes {
            return Err(Error::HeadersTooLarge(format!(
                "the request headers are {header_bytes} bytes; the limit is {} bytes",
                self.max_header_bytes
            )));
        }
        Ok(())
    }
}

/// The largest body (by its `Content-Length`) read before routing; see [`head_limits`].
const READ_AHEAD_BYTES: u64 = 1 << 20;

/// Middleware: refuses a request whose head is over [`HeadLimits`] before it is routed,
/// and reads a body of a known length up to [`READ_AHEAD_BYTES`] before the handler runs.
///
/// hyper keeps a connection open only when the request's body was read to its end; a
/// handler that takes no body (starting a conversation, cancelling a workflow) would
/// otherwise close the keep-alive connection of a client that sent one (`{}`, say)
/// whenever the body had not arrived with the head.
pub async fn head_limits(State(limits): State<HeadLimits>, req: Request, next: Next) -> Response {
    if let Err(e) = limits.check(&req) {
        return e.into_response();
    }
    let known = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match known {
        Some(n) if n > 0 && n <= READ_AHEAD_BYTES => {
            let (parts, body) = req.into_parts();
            match axum::body::to_bytes(body, READ_AHEAD_BYTES as usize).await {
                Ok(bytes) => {
                    let req = Request::from_parts(parts, axum::body::Body::from(bytes));
                    next.run(req).await
                }
                Err(e) => Error::BadRequest(format!("the request body could not be read: {e}"))
                    .into_response(),
            }
        }
        _ => next.run(req).await,
    }
}

/// The fallback of every route: no route has this path.
pub async fn no_route(method: Method, uri: Uri) -> Error {
    Error::NotFound(format!("no route {method} {}", uri.path()))
}

/// The fallback of every route's methods: the path exists, the method does not (axum
/// adds the `Allow` header listing those that do).
pub async fn no_method(method: Method, uri: Uri) -> Error {
    Error::MethodNotAllowed(format!(
        "{method} is not a method of {} (see the Allow header)",
        uri.path()
    ))
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the requests in
/// progress finish. Each request carries its client's address as
/// `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.max_buf_size(PARSER_MAX_HEAD_BYTES)
        .max_headers(PARSER_MAX_HEADERS);
    // Connections are told to stop through `stop`; they hold `open` until they end.
    let (stop_tx, stop_rx) = watch::channel(false);
    let (open_tx, open_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let app = app.clone();
        let http = http.clone();
        let mut stop = stop_rx.clone();
        let open = open_rx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(remote));
                // A router is always ready; cloning it is cheap (shared routes).
                let mut app = app.clone();
                async move { app.call(req).await }
            });
            let conn = http.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let mut stopping = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::trace!("connection from {remote} ended: {e}");
                        }
                        break;
                    }
                    changed = stop.changed(), if !stopping => {
                        stopping = true;
                        if changed.is_ok() {
                            conn.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
            drop(open);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(open_rx);
    open_tx.closed().await;
    Ok(())
}

/// After a failed accept: a client that gave up is nothing; anything else (out of file
/// descriptors) is logged and waited out a little, as retrying at once would spin.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!("accepting a connection failed: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
