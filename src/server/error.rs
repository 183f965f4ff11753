//! The one place where error kinds become HTTP status codes and JSON bodies
//! (`{"error": kind, "message": …}`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::Error;

/// Every error's body, as the API description shows it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// The kind: `bad_request`, `not_found`, `conflict`, …
    error: String,
    /// What is wrong, naming the field or value.
    message: String,
}

/// The status code and kind of an error: the one mapping, used by the API's JSON and
/// the console's pages alike.
pub fn status_of(e: &Error) -> (StatusCode, &'static str) {
    match e {
        Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
        Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
        Error::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        Error::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        Error::UriTooLong(_) => (StatusCode::URI_TOO_LONG, "uri_too_long"),
        Error::HeadersTooLarge(_) => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
        ),
        Error::IdempotencyKeyReused(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
        }
        Error::Database(_) | Error::Pool(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
        }
        Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, kind) = status_of(&self);
        if status.is_server_error() {
            tracing::error!("{self}");
        }
        (
            status,
            Json(json!({ "error": kind, "message": self.to_string() })),
        )
            .into_response()
    }
}
