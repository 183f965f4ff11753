//! Request extractors whose failures are JSON errors naming the problem.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::Error;

/// A JSON body: malformed JSON, a wrong type or a missing field is a 400 that says which.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::TooLarge(format!("request body is too large: {e}"))
            } else {
                Error::BadRequest(format!("cannot read request body: {e}"))
            }
        })?;
        if bytes.is_empty() {
            return Err(Error::BadRequest(
                "request body is empty; expected a JSON object".into(),
            ));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| Error::BadRequest(format!("invalid JSON body: {e}")))
    }
}

/// Parses an id from the path.
pub fn parse_id(text: &str, what: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(text)
        .map_err(|_| Error::BadRequest(format!("'{text}' is not a valid {what} id")))
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
