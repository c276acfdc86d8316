//! The services the routes and the `gatehouse admin` commands both call: each validates its
//! input, writes through the store's one write path with its audit event, and answers a typed
//! error that the HTTP layer (or the command line) turns into its own reply.

pub mod admin;

use crate::store::StoreError;

/// Why a service refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    /// A failure of ours that the caller cannot act on (logged where it happens).
    #[error("{0}")]
    Internal(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CoreError {
    fn from(err: sqlx::Error) -> Self {
        CoreError::Store(err.into())
    }
}

impl CoreError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        CoreError::Invalid {
            field,
            message: message.into(),
        }
    }
}
