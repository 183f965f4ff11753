//! Outbound HTTP for the HTTP keywords (`GET`, `POST`, `PUT`, `PATCH`, `DELETE`): who a
//! bot may reach, and the request itself with its limits.
//!
//! Safety first: a bot's script is untrusted input, and the server sits inside a network.
//! A request goes out only to a host its [`Policy`] allows; `*` allows any *public*
//! address, and loopback, private, link-local, shared (CGNAT), multicast and unspecified
//! addresses are refused unless the host is listed by name or address. The name is
//! resolved once and the connection goes to the vetted addresses only (a DNS answer that
//! changes between the check and the connection cannot redirect it), and every redirect
//! is checked again. Responses are bounded in time and size.
//!
//! Durability belongs to the caller: each request carries the `Idempotency-Key` it is
//! given (derived from the execution and its journal key, the same on every repeat), so
//! a receiving service can drop the duplicate that a crash between the request and the
//! journal's commit produces.

use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

/// The environment variable with the server's allow-list.
pub const ALLOW_ENV: &str = "BOTSERVER_HTTP_ALLOW";

/// The server's policy from its environment: `BOTSERVER_HTTP_ALLOW` (default `*`: any
/// public host; set it empty to allow nothing), `BOTSERVER_HTTP_TIMEOUT_SECS` (default 30)
/// and `BOTSERVER_HTTP_MAX_BYTES` (default 1 MiB).
pub fn policy_from_env() -> Result<Policy, String> {
    let list = std::env::var(ALLOW_ENV).unwrap_or_else(|_| "*".to_string());
    let mut p = Policy::parse(&list).map_err(|e| format!("{ALLOW_ENV}: {e}"))?;
    if let Ok(t) = std::env::var("BOTSERVER_HTTP_TIMEOUT_SECS") {
        let secs: f64 = t
            .parse()
            .ok()
            .filter(|s: &f64| *s > 0.0 && *s <= 3600.0)
            .ok_or_else(|| format!("BOTSERVER_HTTP_TIMEOUT_SECS: '{t}' is not 0–3600 seconds"))?;
        p.timeout = Duration::from_secs_f64(secs);
    }
    if let Ok(m) = std::env::var("BOTSERVER_HTTP_MAX_BYTES") {
        p.max_response_bytes = m
            .parse()
            .map_err(|_| format!("BOTSERVER_HTTP_MAX_BYTES: '{m}' is not a number of bytes"))?;
    }
    Ok(p)
}

/// A script's call under a policy, with its idempotency key: the answer's body, or the
/// error's message (which names the method and URL).
pub fn call(
    policy: &Policy,
    call: &crate::basic::context::HttpCall,
    idempotency_key: &str,
) -> Result<Json, String> {
    let req = Request {
        method: call.method.clone(),
        url: call.url.clone(),
        headers: call.headers.clone(),
        body: call.body.clone(),
        idempotency_key: idempotency_key.to_string(),
    };
    send(policy, &req)
        .map(|r| r.body)
        .map_err(|e| e.to_string())
}

/// How many redirects a request follows, each checked against the policy.
const MAX_REDIRECTS: usize = 5;

/// One allowed destination: a host name or address, optionally a port; `*.example.com`
/// for every subdomain; `*` for any public host.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allow {
    AnyPublic,
    Host { host: String, port: Option<u16> },
    Suffix { suffix: String, port: Option<u16> },
}

/// Who a bot may reach and how much it may take.
#[derive(Debug, Clone)]
pub struct Policy {
    allow: Vec<Allow>,
    /// The whole request, connection to last byte.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// The largest response body read; a larger one is an error.
    pub max_response_bytes: usize,
}

/// What went wrong with a request, in words a script writer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
    /// The server answered with a status outside 2xx.
    #[error("{method} {url}: {status} {reason}")]
    Status {
        method: String,
        url: String,
        status: u16,
        reason: String,
    },
}

/// A request of a script.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// JSON body (maps, lists, numbers); a text body is sent as it is.
    pub body: Option<Json>,
    pub idempotency_key: String,
}

/// An answer: its status and body (JSON parsed into values, anything else as text).
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub body: Json,
}

impl Policy {
    /// The policy from an allow-list written as `host[:port]` patterns separated by commas
    /// (`api.example.com, *.example.org, 127.0.0.1:9000, *`). An empty list allows nothing.
    pub fn parse(list: &str) -> Result<Policy, String> {
        let mut allow = Vec::new();
        for raw in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            allow.push(parse_pattern(raw)?);
        }
        Ok(Policy {
            allow,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            max_response_bytes: 1 << 20,
        })
    }

    /// A policy that allows every listed pattern of both lists (the server's and a bot's).
    pub fn with(mut self, other: &Policy) -> Policy {
        self.allow.extend(other.allow.iter().cloned());
        self
    }

    /// Whether `host:port` was listed by name or address (then any address it resolves
    /// to is allowed, private ones too), only by `*` (public addresses only), or not.
    fn admits(&self, host: &str, port: u16) -> Admit {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port_ok = |p: &Option<u16>| p.is_none_or(|p| p == port);
        let listed = self.allow.iter().any(|a| match a {
            Allow::Host { host: h, port: p } => h.eq_ignore_ascii_case(host) && port_ok(p),
            Allow::Suffix { suffix, port: p } => {
                let lower = host.to_ascii_lowercase();
                lower.ends_with(&format!(".{suffix}")) && port_ok(p)
            }
            Allow::AnyPublic => false,
        });
        if listed {
            Admit::Listed
        } else if self.allow.contains(&Allow::AnyPublic) {
            Admit::PublicOnly
        } else {
            Admit::No
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admit {
    Listed,
    PublicOnly,
    No,
}

fn parse_pattern(raw: &str) -> Result<Allow, String> {
    if raw == "*" {
        return Ok(Allow::AnyPublic);
    }
    // `[::1]:8080`, `host:port`, `host`.
    let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("'{raw}': an IPv6 address needs its closing ']'"))?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match raw.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h.to_string(), Some(p)),
            _ => (raw.to_string(), None),
        }
    };
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("'{raw}': '{p}' is not a port number"))?,
        ),
        None => None,
    };
    let host = host.to_ascii_lowercase();
    if host.is_empty() || host.contains('/') || host.contains(char::is_whitespace) {
        return Err(format!("'{raw}' is not a host[:port] pattern"));
    }
    Ok(match host.strip_prefix("*.") {
        Some(suffix) if !suffix.is_empty() && !suffix.contains('*') => Allow::Suffix {
            suffix: suffix.to_string(),
            port,
        },
        _ if host.contains('*') => {
            return Err(format!(
                "'{raw}': '*' is allowed alone or as '*.domain' only"
            ))
        }
        _ => Allow::Host { host, port },
    })
}

/// True for an address on the public internet (not this machine, not a private or
/// shared network, not link-local, multicast, documentation or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x64 && s[1] == 0xff9b))
        }
    }
}

/// The resolver the client connects through: only addresses the policy admits.
struct VettedResolver {
    policy: Arc<Policy>,
}

impl ureq::Resolver for VettedResolver {
    fn resolve(&self, netloc: &str) -> std::io::Result<Vec<SocketAddr>> {
        let (host, port) = split_netloc(netloc);
        let admit = self.policy.admits(host, port);
        if admit == Admit::No {
            return Err(std::io::Error::other(format!(
                "{host}:{port} is not in the allow-list"
            )));
        }
        let addrs: Vec<SocketAddr> = netloc.to_socket_addrs()?.collect();
        let vetted: Vec<SocketAddr> = addrs
            .iter()
            .copied()
            .filter(|a| admit == Admit::Listed || is_public(a.ip()))
            .collect();
        if vetted.is_empty() {
            let what = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
                Ok(_) => format!("{host} is"),
                Err(_) => format!(
                    "{host} resolves to {}, which is",
                    addrs
                        .first()
                        .map_or_else(|| "nothing".to_string(), |a| a.ip().to_string())
                ),
            };
            return Err(std::io::Error::other(format!(
                "{what} a private or local address; list it in the allow-list to reach it"
            )));
        }
        Ok(vetted)
    }
}

fn split_netloc(netloc: &str) -> (&str, u16) {
    match netloc.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().unwrap_or(0)),
        None => (netloc, 0),
    }
}

/// The host and port of a URL, or why it cannot be requested.
fn target(method: &str, url: &str) -> Result<(String, u16), HttpError> {
    let refused = |why: &str| HttpError::Refused(format!("{method} {url}: {why}"));
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| refused("not an http:// or https:// URL"))?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(refused("only http:// and https:// URLs can be requested")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.is_empty() {
        return Err(refused("the URL has no host"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| refused("bad IPv6 host"))?;
        let port = after.strip_prefix(':').map(str::parse::<u16>);
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.parse::<u16>())),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        Some(Ok(p)) => p,
        Some(Err(_)) => return Err(refused("the URL's port is not a number")),
        None => default_port,
    };
    Ok((host.to_ascii_lowercase(), port))
}

/// Sends a request under a policy, following redirects that the policy also admits.
pub fn send(policy: &Policy, req: &Request) -> Result<Response, HttpError> {
    let policy = Arc::new(policy.clone());
    let agent = ureq::AgentBuilder::new()
        .resolver(VettedResolver {
            policy: policy.clone(),
        })
        .timeout(policy.timeout)
        .timeout_connect(policy.connect_timeout)
        .redirects(0)
        .build();
    let mut url = req.url.clone();
    let mut method = req.method.to_ascii_uppercase();
    let mut body = req.body.clone();
    for _ in 0..=MAX_REDIRECTS {
        let (host, port) = target(&method, &url)?;
        if policy.admits(&host, port) == Admit::No {
            return Err(HttpError::Refused(format!(
                "{method} {url}: {host} is not in the allow-list of hosts this bot may reach \
                 (BOTSERVER_HTTP_ALLOW, or the bot's http-allow setting)"
            )));
        }
        let mut r = agent
            .request(&method, &url)
            .set("Idempotency-Key", &req.idempotency_key)
            .set(
                "User-Agent",
                concat!("botserver/", env!("CARGO_PKG_VERSION")),
            );
        for (name, value) in &req.headers {
            r = r.set(name, value);
        }
        let sent = match &body {
            None => r.call(),
            Some(Json::String(text)) => r.send_string(text),
            Some(json) => r
                .set("Content-Type", "application/json")
                .send_string(&json.to_string()),
        };
        let response = match sent {
            Ok(resp) => resp,
            Err(ureq::Error::Status(status, resp)) if !(300..400).contains(&status) => {
                return Err(HttpError::Status {
                    method,
                    url,
                    status,
                    reason: resp.status_text().to_string(),
                })
            }
            Err(ureq::Error::Status(_, resp)) => resp,
            Err(ureq::Error::Transport(t)) => {
                // The resolver's refusal is the source of a "resolve dns name" error.
                let why = match std::error::Error::source(&t) {
                    Some(source) => source.to_string(),
                    None => t.message().map_or_else(|| t.to_string(), str::to_string),
                };
                let refused = why.contains("allow-list") || why.contains("private or local");
                let msg = format!("{method} {url}: {why}");
                return Err(if refused {
                    HttpError::Refused(msg)
                } else {
                    HttpError::Failed(msg)
                });
            }
        };
        let status = response.status();
        if (300..400).contains(&status) {
            let location = response.header("Location").ok_or_else(|| {
                HttpError::Failed(format!("{method} {url}: {status} without a Location"))
            })?;
            url = absolute(&url, location);
            if status == 303 || ((status == 301 || status == 302) && method == "POST") {
                method = "GET".to_string();
                body = None;
            }
            continue;
        }
        return read_body(&method, &url, status, response, policy.max_response_bytes);
    }
    Err(HttpError::Failed(format!(
        "{} {}: more than {MAX_REDIRECTS} redirects",
        req.method, req.url
    )))
}

/// A redirect's target as an absolute URL.
fn absolute(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if location.starts_with('/') {
        format!("{scheme}://{authority}{location}")
    } else {
        let path = rest[authority.len()..]
            .split(['?', '#'])
            .next()
            .unwrap_or("");
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        format!("{scheme}://{authority}{dir}/{location}")
    }
}

fn read_body(
    method: &str,
    url: &str,
    status: u16,
    response: ureq::Response,
    max: usize,
) -> Result<Response, HttpError> {
    let is_json = response
        .content_type()
        .to_ascii_lowercase()
        .contains("json");
    let mut bytes = Vec::new();
    response
        .into_reader()
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| HttpError::Failed(format!("{method} {url}: reading the answer: {e}")))?;
    if bytes.len() > max {
        return Err(HttpError::Failed(format!(
            "{method} {url}: the answer is over the size limit of {max} bytes"
        )));
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = if is_json {
        serde_json::from_str(&text).map_err(|e| {
            HttpError::Failed(format!(
                "{method} {url}: the answer is not valid JSON ({e})"
            ))
        })?
    } else {
        Json::String(text)
    };
    Ok(Response { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    #[test]
    fn patterns() {
        let p =
            Policy::parse("api.example.com, *.example.org:8443, 127.0.0.1:9000, [::1]:81").unwrap();
        assert_eq!(p.admits("api.example.com", 443), Admit::Listed);
        assert_eq!(p.admits("API.example.com", 80), Admit::Listed);
        assert_eq!(p.admits("a.b.example.org", 8443), Admit::Listed);
        assert_eq!(p.admits("example.org", 8443), Admit::No);
        assert_eq!(p.admits("a.example.org", 443), Admit::No);
        assert_eq!(p.admits("127.0.0.1", 9000), Admit::Listed);
        assert_eq!(p.admits("127.0.0.1", 9001), Admit::No);
        assert_eq!(p.admits("[::1]", 81), Admit::Listed);
        let any = Policy::parse("*").unwrap();
        assert_eq!(any.admits("127.0.0.1", 80), Admit::PublicOnly);
        assert!(Policy::parse("a*b.com").is_err());
        assert!(Policy::parse("host:port").is_err());
        assert_eq!(Policy::parse("").unwrap().admits("x.com", 443), Admit::No);
    }

    #[test]
    fn public_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(
            target("GET", "https://Api.Example.com/x?y=1").unwrap(),
            ("api.example.com".into(), 443)
        );
        assert_eq!(
            target("GET", "http://user:pw@h:8080/").unwrap(),
            ("h".into(), 8080)
        );
        assert_eq!(
            target("GET", "http://[::1]:81/").unwrap(),
            ("::1".into(), 81)
        );
        assert!(matches!(
            target("GET", "file:///etc/passwd"),
            Err(HttpError::Refused(_))
        ));
        assert!(matches!(
            target("GET", "example.com"),
            Err(HttpError::Refused(_))
        ));
        assert_eq!(absolute("http://h/a/b?c", "/x"), "http://h/x");
        assert_eq!(absolute("http://h/a/b", "c"), "http://h/a/c");
    }

    /// A one-shot HTTP server on 127.0.0.1 answering with `answer`; gives its port and
    /// the request it saw.
    fn one_shot(answer: &'static str) -> (u16, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut seen = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                seen.push_str(&line);
            }
            stream.write_all(answer.as_bytes()).unwrap();
            seen
        });
        (port, handle)
    }

    #[test]
    fn loopback_is_refused_unless_listed() {
        let (port, _server) = one_shot("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        let req = Request {
            method: "GET".into(),
            url: format!("http://127.0.0.1:{port}/x"),
            headers: vec![],
            body: None,
            idempotency_key: "k".into(),
        };
        let err = send(&Policy::parse("*").unwrap(), &req).unwrap_err();
        assert!(matches!(err, HttpError::Refused(_)), "{err}");
        assert!(err.to_string().contains("private or local"), "{err}");
        let err = send(&Policy::parse("api.example.com").unwrap(), &req).unwrap_err();
        assert!(err.to_string().contains("not in the allow-list"), "{err}");
        let listed = Policy::parse(&format!("127.0.0.1:{port}")).unwrap();
        let r = send(&listed, &req).unwrap();
        assert_eq!(
            r,
            Response {
                status: 200,
                body: Json::String("ok".into())
            }
        );
    }

    #[test]
    fn json_answers_and_the_idempotency_key() {
        let (port, server) = one_shot(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"items\":[1]}",
        );
        let req = Request {
            method: "POST".into(),
            url: format!("http://localhost:{port}/orders"),
            headers: vec![("X-Test".into(), "1".into())],
            body: Some(serde_json::json!({"a": 1})),
            idempotency_key: "exec-1/s1/http#0".into(),
        };
        let r = send(&Policy::parse(&format!("localhost:{port}")).unwrap(), &req).unwrap();
        assert_eq!(r.body, serde_json::json!({"items": [1]}));
        let seen = server.join().unwrap().to_ascii_lowercase();
        assert!(seen.starts_with("post /orders"), "{seen}");
        assert!(seen.contains("idempotency-key: exec-1/s1/http#0"), "{seen}");
        assert!(seen.contains("x-test: 1"), "{seen}");
    }

    #[test]
    fn status_and_size_errors() {
        let (port, _s) = one_shot("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        let policy = Policy::parse(&format!("127.0.0.1:{port}")).unwrap();
        let req = Request {
            method: "GET".into(),
            url: format!("http://127.0.0.1:{port}/missing"),
            headers: vec![],
            body: None,
            idempotency_key: "k".into(),
        };
        let err = send(&policy, &req).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("GET http://127.0.0.1:{port}/missing: 404 Not Found")
        );
        let (port, _s) =
            one_shot("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789");
        let mut policy = Policy::parse(&format!("127.0.0.1:{port}")).unwrap();
        policy.max_response_bytes = 10;
        let req = Request {
            url: format!("http://127.0.0.1:{port}/big"),
            ..req
        };
        let err = send(&policy, &req).unwrap_err();
        assert!(err.to_string().contains("size limit"), "{err}");
    }
}
