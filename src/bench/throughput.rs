//! Workflows completed per second over HTTP (three steps; three delegated steps).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::http::Http;

/// Workflows of `script` completed per second with `callers` in flight, through HTTP.
pub async fn throughput(
    addr: SocketAddr,
    script: &str,
    callers: usize,
    secs: f64,
) -> Result<f64, String> {
    let warm = Duration::from_secs_f64(1.0);
    let start = Instant::now();
    let measure_from = start + warm;
    let end = measure_from + Duration::from_secs_f64(secs);
    let done = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for _ in 0..callers {
        let done = done.clone();
        let body = json!({ "bot": "bench", "script": script, "input": {} }).to_string();
        handles.push(tokio::spawn(async move {
            let mut http = Http::connect(addr).await.map_err(|e| e.to_string())?;
            while Instant::now() < end {
                let (st, text) = http
                    .request("POST", "/api/workflows", Some(&body))
                    .await
                    .map_err(|e| e.to_string())?;
                if st != 201 {
                    return Err(format!("start failed ({st}): {text}"));
                }
                let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                let id = v["id"].as_str().unwrap_or_default().to_string();
                let (st, text) = http
                    .request(
                        "GET",
                        &format!("/api/workflows/{id}/result?timeout=60"),
                        None,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                if st != 200 || v["status"] != "completed" {
                    return Err(format!("workflow {id} did not complete: {text}"));
                }
                let now = Instant::now();
                if now >= measure_from && now < end {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok::<(), String>(())
        }));
    }
    for h in handles {
        h.await.map_err(|e| e.to_string())??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / secs)
}
