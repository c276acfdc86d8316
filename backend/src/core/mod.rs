//! The core layer: the services the routes and the `gatehouse admin` commands both call (admin
//! changes, work-session transitions, audit), the gateway (agent links, terminals, commands,
//! file channels and the watcher that ends them), the scheduler and the server's shared state.
//! It knows `shared` and the store below it and nothing of HTTP: each service answers a typed
//! [`CoreError`] that the routes (or the command line) turn into their own reply.

pub mod access;
pub mod admin;
pub mod approvals;
pub mod audit;
pub mod command_approvals;
pub mod elevation;
pub mod exec_results;
pub mod gate;
pub mod gateway;
pub mod recordings;
pub mod runas;
pub mod scheduler;
pub mod service_accounts;
pub mod sessions;
pub mod settings;
pub mod signins;
pub mod state;
pub mod stepup;
pub mod token_acl;
pub mod tunnels;

use crate::store::StoreError;
use gatehouse_shared::lifecycle::Refusal;

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
    /// Token ACLs refused it (a token acting beyond its rules, or trying to change them).
    #[error("{0}")]
    TokenAclDenied(String),
    /// A failure of ours that the caller cannot act on (logged where it happens).
    #[error("{0}")]
    Internal(&'static str),
    /// The work-session lifecycle refused the action.
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A step-up operation, and the caller's MFA is missing or not recent enough.
    #[error("step-up MFA needed: {0:?}")]
    StepUp(stepup::StepUp),
}

impl CoreError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        CoreError::Invalid {
            field,
            message: message.into(),
        }
    }
}
