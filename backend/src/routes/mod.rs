//! The HTTP API, one module per concept, each with its own `router()`.

pub mod agent_ws;
pub mod agents;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod events;
pub mod exec;
pub mod files;
pub mod gate;
pub mod groups;
pub mod servers;
pub mod settings;
pub mod setup;
pub mod tokens;
pub mod users;
pub mod websh;
pub mod work_sessions;

use crate::core::state::AppState;
use axum::Router;
use gatehouse_shared::api::{DEFAULT_LIMIT, MAX_LIMIT};

/// Every API route, merged in one place.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(setup::router())
        .merge(auth::router())
        .merge(users::router())
        .merge(groups::router())
        .merge(tokens::router())
        .merge(servers::router())
        .merge(agents::router())
        .merge(work_sessions::router())
        .merge(approvals::router())
        .merge(settings::router())
        .merge(gate::router())
        .merge(audit::router())
        .merge(websh::router())
        .merge(agent_ws::router())
        .merge(exec::router())
        .merge(files::router())
        .merge(events::router())
}

/// `?limit=` clamped to 1..=500, default 50.
pub fn page_limit(limit: Option<i64>) -> i64 {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}
