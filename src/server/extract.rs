//! Request extractors whose failures are JSON errors naming the problem: the body
//! ([`JsonBody`], [`OptionalJsonBody`]), the query string ([`Query`]) and the path
//! parameters ([`Path`]). Handlers use these, never axum's own, whose rejections are
//! plain text.
//!
//! Each also refuses text PostgreSQL cannot store before it reaches a query, naming
//! where it was: in a UTF-8 database `text` and `jsonb` hold every character but NUL
//! (U+0000). Rust strings are valid UTF-8 and `serde_json` refuses lone surrogates, so
//! NUL is the one character left to check.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::error::Error;

/// Whether PostgreSQL can store `s` as text.
fn storable(s: &str) -> bool {
    !s.contains('\0')
}

fn nul_message(what: &str) -> String {
    format!("{what} holds a NUL character (\\u0000), which cannot be stored")
}

/// A JSON body: malformed JSON, a wrong type, a missing field or text that cannot be
/// stored is a 400 that says which.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        if bytes.is_empty() {
            return Err(Error::BadRequest(
                "request body is empty; expected a JSON object".into(),
            ));
        }
        parse_json(&bytes).map(JsonBody)
    }
}

/// A JSON body that may be left out: an empty (or all-blank) body is `T::default()`;
/// anything else is read as [`JsonBody`] reads it.
pub struct OptionalJsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(T::default()));
        }
        parse_json(&bytes).map(OptionalJsonBody)
    }
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, Error> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Error::TooLarge(format!("request body is too large: {e}"))
        } else {
            Error::BadRequest(format!("cannot read request body: {e}"))
        }
    })
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let invalid = |e: serde_json::Error| Error::BadRequest(format!("invalid JSON body: {e}"));
    // Inside a JSON string NUL can only be spelled `\u0000` (a raw NUL byte is not JSON),
    // so a body without that text needs no walk; one with it (perhaps only as `\\u0000`,
    // an escaped backslash) is walked to find where, if anywhere.
    if bytes.windows(6).any(|w| w == b"\\u0000") {
        let value: Value = serde_json::from_slice(bytes).map_err(invalid)?;
        let mut path = String::new();
        if let Some(what) = unstorable(&value, &mut path) {
            return Err(Error::BadRequest(nul_message(&what)));
        }
        return serde_json::from_value(value).map_err(invalid);
    }
    serde_json::from_slice(bytes).map_err(invalid)
}

/// The first string or key in `value` that cannot be stored, described by its path
/// (`'input.items[2].name'`, or `a key in 'payload'`); `path` is where `value` is.
fn unstorable(value: &Value, path: &mut String) -> Option<String> {
    match value {
        Value::String(s) if !storable(s) => Some(quoted_path(path)),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = unstorable(v, path);
            path.truncate(len);
            found
        }),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if !storable(k) {
                return Some(if path.is_empty() {
                    "a key of the body".to_string()
                } else {
                    format!("a key in {}", quoted_path(path))
                });
            }
            let len = path.len();
            push_key(path, k);
            let found = unstorable(v, path);
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

fn quoted_path(path: &str) -> String {
    if path.is_empty() {
        "the body".to_string()
    } else {
        format!("'{path}'")
    }
}

/// `a.b` for a plain key, `a["b c"]` for any other.
fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&Value::String(key.to_string()).to_string());
        path.push(']');
    }
}

/// The query string, deserialized: a value of the wrong type, a repeated parameter or
/// text that cannot be stored is a 400 naming the parameter.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let bad = |e: axum::extract::rejection::QueryRejection| Error::BadRequest(e.body_text());
        // First as plain (name, value) pairs, to check every one, whatever `T` reads.
        let axum::extract::Query(pairs) =
            axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri).map_err(bad)?;
        for (name, value) in &pairs {
            if !storable(name) {
                return Err(Error::BadRequest(nul_message("a query parameter's name")));
            }
            if !storable(value) {
                return Err(Error::BadRequest(nul_message(&format!(
                    "query parameter '{name}'"
                ))));
            }
        }
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::try_from_uri(&parts.uri).map_err(bad)?;
        Ok(Query(value))
    }
}

/// The path parameters, deserialized: text that is not UTF-8 (`%FF`), cannot be stored
/// (`%00`) or does not fit `T` is a 400 naming the parameter.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(pairs) =
            axum::extract::Path::<Vec<(String, String)>>::from_request_parts(parts, state)
                .await
                .map_err(path_rejection)?;
        if let Some((name, _)) = pairs.iter().find(|(_, v)| !storable(v)) {
            return Err(Error::BadRequest(nul_message(&format!(
                "path parameter '{name}'"
            ))));
        }
        let axum::extract::Path(value) = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(path_rejection)?;
        Ok(Path(value))
    }
}

fn path_rejection(e: axum::extract::rejection::PathRejection) -> Error {
    // A route whose handler reads parameters it does not have is our bug, not the
    // client's.
    if e.status().is_server_error() {
        Error::Internal(e.body_text())
    } else {
        Error::BadRequest(e.body_text())
    }
}

/// Parses an id from the path.
pub fn parse_id(text: &str, what: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(text)
        .map_err(|_| Error::BadRequest(format!("'{text}' is not a valid {what} id")))
}

/// A `status` filter: one of the execution statuses, or a 400 naming them.
pub fn parse_status(s: &str) -> Result<crate::db::states::ExecStatus, Error> {
    use crate::db::states::ExecStatus;
    s.parse::<ExecStatus>().map_err(|_| {
        let allowed: Vec<&str> = ExecStatus::ALL.iter().map(|s| s.as_str()).collect();
        Error::BadRequest(format!(
            "'status' must be one of {}, not \"{s}\"",
            allowed.join(", ")
        ))
    })
}

/// The bearer token of a request, if any.
pub struct Bearer(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_string());
        Ok(Bearer(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nul_at(body: &str) -> Option<String> {
        let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        unstorable(&value, &mut String::new())
    }

    #[test]
    fn the_path_of_a_nul_names_the_field() {
        assert_eq!(
            nul_at(r#"{"input": {"items": [1, {}, {"name": "a\u0000"}]}}"#),
            Some("'input.items[2].name'".into())
        );
        assert_eq!(
            nul_at(r#"{"payload": {"k\u0000": 1}}"#),
            Some("a key in 'payload'".into())
        );
        assert_eq!(nul_at(r#"{"\u0000": 1}"#), Some("a key of the body".into()));
        assert_eq!(nul_at(r#""\u0000""#), Some("the body".into()));
        assert_eq!(
            nul_at(r#"{"a b": ["\u0000"]}"#),
            Some("'[\"a b\"][0]'".into())
        );
        // An escaped backslash before u0000 is text, not NUL.
        assert_eq!(nul_at(r#"{"text": "\\u0000"}"#), None);
    }

    #[test]
    fn a_body_with_a_nul_is_refused_and_one_without_is_read() {
        #[derive(serde::Deserialize, Debug)]
        struct B {
            #[allow(dead_code)]
            text: String,
        }
        let err = parse_json::<B>(br#"{"text": "hi\u0000"}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("'text' holds a NUL"), "{err}");
        assert!(parse_json::<B>(br#"{"text": "\\u0000"}"#).is_ok());
        assert!(parse_json::<B>(br#"{"text": "hi"}"#).is_ok());
    }
}
