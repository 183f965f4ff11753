//! Conversations over HTTP: `callers` conversations at once, each `start.bas` of the
//! `chat` bot (a `HEAR` loop answering every message with a `TALK`), driven as a chat
//! front-end would: start it, then post a message and await the reply, again and again.
//!
//! Each conversation answers `turns` messages and then the caller starts a new one: a
//! run replays its journal from the top, so a conversation's runs grow with its length,
//! and real conversations are a few dozen messages long, not thousands.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::http::Http;
use super::report::{percentile, sorted};

/// What [`conversations`] measured.
pub struct Measured {
    /// Messages answered per second.
    pub per_sec: f64,
    /// Post → reply, median (ms).
    pub p50_ms: f64,
    /// Post → reply, 99th percentile (ms).
    pub p99_ms: f64,
    /// Conversations started.
    pub started: usize,
}

/// Messages answered per second and the reply latency, with `callers` conversations in
/// flight, over `secs` seconds after a one-second warm-up.
pub async fn conversations(
    addr: SocketAddr,
    callers: usize,
    turns: usize,
    secs: f64,
) -> Result<Measured, String> {
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(1);
    let end = measure_from + Duration::from_secs_f64(secs);
    let done = Arc::new(AtomicU64::new(0));
    let started = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for c in 0..callers {
        let (done, started, latencies) = (done.clone(), started.clone(), latencies.clone());
        handles.push(tokio::spawn(async move {
            let mut http = Http::connect(addr).await.map_err(|e| e.to_string())?;
            let mut mine = Vec::new();
            'conversations: while Instant::now() < end {
                let (st, text) = http
                    .request("POST", "/api/bots/chat/conversations", Some("{}"))
                    .await
                    .map_err(|e| format!("caller {c}: starting a conversation: {e}"))?;
                if st != 201 {
                    return Err(format!("conversation start failed ({st}): {text}"));
                }
                started.fetch_add(1, Ordering::Relaxed);
                let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                let id = v["id"].as_str().unwrap_or_default().to_string();
                let path = format!("/api/conversations/{id}/messages");
                for turn in 0..turns {
                    if Instant::now() >= end {
                        break 'conversations;
                    }
                    let said = format!("caller {c} turn {turn}");
                    let body = json!({ "text": said }).to_string();
                    let t0 = Instant::now();
                    let (st, text) = http
                        .request("POST", &path, Some(&body))
                        .await
                        .map_err(|e| format!("caller {c}: message {turn} to {id}: {e}"))?;
                    let took = t0.elapsed();
                    let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                    let answered = v["messages"].as_array().is_some_and(|m| {
                        m.iter()
                            .any(|t| t.as_str() == Some(&format!("echo: {said}")))
                    });
                    if st != 200 || !answered || v["waiting"] != true {
                        return Err(format!(
                            "conversation {id}: no echo of {said:?} ({st}): {text}"
                        ));
                    }
                    if t0 >= measure_from && t0 + took <= end {
                        done.fetch_add(1, Ordering::Relaxed);
                        mine.push(took.as_secs_f64() * 1000.0);
                    }
                }
            }
            if let Ok(mut all) = latencies.lock() {
                all.extend(mine);
            }
            Ok::<(), String>(())
        }));
    }
    for h in handles {
        h.await.map_err(|e| e.to_string())??;
    }
    let lat = sorted(latencies.lock().map(|l| l.clone()).unwrap_or_default());
    Ok(Measured {
        per_sec: done.load(Ordering::Relaxed) as f64 / secs,
        p50_ms: percentile(&lat, 0.5),
        p99_ms: percentile(&lat, 0.99),
        started: started.load(Ordering::Relaxed) as usize,
    })
}
