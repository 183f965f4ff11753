//! An HTTP service for tests, on 127.0.0.1 (axum on a runtime of its own): it records
//! every request with its `Idempotency-Key`, answers a JSON list of two items, and can
//! hold its answers (`delay_ms`) so a test can kill the caller while it waits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::Router;
use serde_json::{json, Value};

use super::server::Options;

/// One request the peer saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub key: String,
    pub trace: Option<String>,
    pub body: String,
}

#[derive(Clone)]
pub struct PeerState {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// How long the next answers wait, in milliseconds.
    pub delay_ms: Arc<AtomicU64>,
}

/// The peer service, on its own runtime.
pub struct Peer {
    pub port: u16,
    pub state: PeerState,
    _rt: tokio::runtime::Runtime,
}

impl Peer {
    pub fn start() -> Peer {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let state = PeerState {
            seen: Arc::new(Mutex::new(Vec::new())),
            delay_ms: Arc::new(AtomicU64::new(0)),
        };
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = Router::new().fallback(answer).with_state(state.clone());
        rt.spawn(async move { axum::serve(listener, app).await });
        Peer {
            port,
            state,
            _rt: rt,
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

async fn answer(
    State(state): State<PeerState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> axum::Json<Value> {
    let n = {
        let mut seen = state.seen.lock().unwrap();
        seen.push(Seen {
            method: method.to_string(),
            path: uri.path().to_string(),
            key: headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
            trace: headers
                .get("x-trace")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            body,
        });
        seen.len()
    };
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    axum::Json(
        json!({ "items": [{ "id": 1, "name": "tea" }, { "id": 2, "name": "cake" }], "seen": n }),
    )
}

/// Server options whose allow-list lets the bots reach the peer.
pub fn allow(peer: &Peer) -> Options {
    Options {
        env: vec![(
            "BOTSERVER_HTTP_ALLOW".to_string(),
            format!("127.0.0.1:{}", peer.port),
        )],
        ..Options::default()
    }
}
