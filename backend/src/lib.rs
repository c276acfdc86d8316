//! The Gatehouse server: REST API, work-session lifecycle and gate, identity, audit log.
//!
//! [`app`] builds the whole HTTP surface over an [`AppState`], so tests drive it with
//! `tower::ServiceExt::oneshot` and `main.rs` serves it over TCP.

pub mod app;
pub mod auth;
pub mod config;
pub mod core;
pub mod csp;
pub mod error;
pub mod extract;
pub mod gatekeeper;
pub mod openapi;
pub mod routes;
pub mod store;
pub mod time;
pub mod tls;

pub use crate::core::state::AppState;
pub use app::app;

/// Starts the server's background tasks: the deadline scheduler and the session watcher that
/// ends live channels of sessions that stop being usable.
pub fn spawn_background(state: &AppState) {
    crate::core::scheduler::spawn(state.clone());
    crate::core::gateway::watcher::spawn(state.clone());
}
