//! One flat error kind for the runtime and the server. The HTTP layer maps each kind to
//! a status code in one place (`server::error`).

#![warn(missing_docs)]

/// An error of the runtime or the API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    /// Unknown bot, conversation, workflow, approval or route (404).
    NotFound(String),
    #[error("{0}")]
    /// Bad input; the message names the field (400).
    BadRequest(String),
    #[error("{0}")]
    /// A state conflict, or a run that lost its lease (409).
    Conflict(String),
    #[error("{0}")]
    /// The token cannot do this (403).
    Forbidden(String),
    #[error("{0}")]
    /// No token where one is needed (401).
    Unauthorized(String),
    #[error("{0}")]
    /// Over a size limit (413).
    TooLarge(String),
    #[error("{0}")]
    /// A route that exists, asked with a method it does not take (405).
    MethodNotAllowed(String),
    #[error("{0}")]
    /// A request URI over the server's limit (414).
    UriTooLong(String),
    #[error("{0}")]
    /// Request headers over the server's limits (431).
    HeadersTooLarge(String),
    #[error("{0}")]
    /// An `Idempotency-Key` already used for a different request (422).
    IdempotencyKeyReused(String),
    #[error("database error: {0}")]
    /// A database error (503 when PostgreSQL is unreachable).
    Database(diesel::result::Error),
    #[error("database unavailable: {0}")]
    /// No connection from the pool (503).
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("{0}")]
    /// A bug or a broken invariant (500).
    Internal(String),
}

/// A result with the runtime's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<diesel::result::Error> for Error {
    /// A database error; one that says the connection is lost makes the pool check its
    /// connections for a while (`db::suspect_connections`).
    fn from(e: diesel::result::Error) -> Self {
        if crate::db::connection_lost(&e) {
            crate::db::suspect_connections();
        }
        Error::Database(e)
    }
}
