//! A per-client rate limit on the public routes (starting a conversation, its messages,
//! deciding an approval by its link): anyone can reach them, and each request may run a
//! script. A client is its IP address — the peer's, or, when the peer is a trusted proxy
//! (`BOTSERVER_TRUSTED_PROXIES`), the nearest address in `X-Forwarded-For` that is not
//! one. Counting is the `governor` crate's (GCRA, one cell per client; clients idle for a
//! while are forgotten). Over the limit: 429 with a JSON error and `Retry-After`.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The limit and who counts as a proxy.
pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    per_minute: u32,
    trusted: Vec<IpAddr>,
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("per_minute", &self.per_minute)
            .field("trusted", &self.trusted)
            .finish()
    }
}

impl RateLimit {
    /// `per_minute` requests a minute per client, in bursts of up to `burst`.
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32, trusted: Vec<IpAddr>) -> RateLimit {
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        RateLimit {
            limiter: RateLimiter::keyed(quota),
            per_minute: per_minute.get(),
            trusted,
        }
    }

    /// The limit the environment sets: `BOTSERVER_PUBLIC_RATE` (requests a minute per
    /// client, default 600; `off` for none) with bursts of a quarter of it (at least 10),
    /// and `BOTSERVER_TRUSTED_PROXIES` (comma-separated addresses).
    pub fn from_env() -> Result<Option<Arc<RateLimit>>, String> {
        let rate = std::env::var("BOTSERVER_PUBLIC_RATE").unwrap_or_else(|_| "600".into());
        let rate = rate.trim();
        if rate.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let per_minute = rate
            .parse::<u32>()
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(|| {
                format!(
                    "BOTSERVER_PUBLIC_RATE: '{rate}' is not a number of requests a minute (or off)"
                )
            })?;
        let burst = NonZeroU32::new((per_minute.get() / 4).max(10)).unwrap_or(per_minute);
        let trusted = match std::env::var("BOTSERVER_TRUSTED_PROXIES") {
            Ok(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<IpAddr>().map_err(|_| {
                        format!("BOTSERVER_TRUSTED_PROXIES: '{s}' is not an IP address")
                    })
                })
                .collect::<Result<_, _>>()?,
            Err(_) => Vec::new(),
        };
        Ok(Some(Arc::new(RateLimit::new(per_minute, burst, trusted))))
    }

    /// The client a request counts for.
    fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusted.contains(&peer) {
            return Some(peer);
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|a| !self.trusted.contains(a))
                .unwrap_or(peer),
        )
    }

    /// `Err(seconds to wait)` when `client` is over the limit.
    fn check(&self, client: IpAddr) -> Result<(), u64> {
        self.limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + 1
        })
    }

    /// Forgets clients that have not come for a while (their cells are full again).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The middleware of the public routes.
pub async fn limit(
    State(limit): State<Option<Arc<RateLimit>>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(limit) = limit else {
        return next.run(req).await;
    };
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(client) = limit.client(peer, req.headers()) {
        if let Err(secs) = limit.check(client) {
            let body = serde_json::json!({
                "error": "rate_limited",
                "message": format!(
                    "too many requests from {client}: the public routes take {} a minute per \
                     client (BOTSERVER_PUBLIC_RATE); try again in {secs} s",
                    limit.per_minute
                ),
            });
            let mut resp = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return resp;
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_behind_a_trusted_proxy_count_by_their_forwarded_address() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let l = RateLimit::new(
            NonZeroU32::new(60).unwrap(),
            NonZeroU32::new(2).unwrap(),
            vec![proxy],
        );
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 10.0.0.1".parse().unwrap());
        assert_eq!(l.client(Some(proxy), &h), "203.0.113.9".parse().ok());
        // An untrusted peer is itself, whatever it forwards.
        let other: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(l.client(Some(other), &h), Some(other));
        assert!(l.check(other).is_ok() && l.check(other).is_ok());
        assert!(l.check(other).is_err());
        assert!(l.check(proxy).is_ok());
    }
}
