//! The HTTP API, one module per concept, each with its own `router()`.

pub mod agent_ws;
pub mod agents;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod device;
pub mod events;
pub mod exec;
pub mod files;
pub mod gate;
pub mod groups;
pub mod recordings;
pub mod servers;
pub mod service_accounts;
pub mod settings;
pub mod setup;
pub mod signins;
pub mod token_acl;
pub mod tokens;
pub mod tunnels;
pub mod users;
pub mod version;
pub mod websh;
pub mod work_sessions;

use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Router;
use chrono::{DateTime, Utc};
use gatehouse_shared::api::{DEFAULT_LIMIT, MAX_LIMIT};

/// Every API route, merged in one place.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(setup::router())
        .merge(auth::router())
        .merge(device::router())
        .merge(signins::router())
        .merge(users::router())
        .merge(groups::router())
        .merge(tokens::router())
        .merge(token_acl::router())
        .merge(service_accounts::router())
        .merge(servers::router())
        .merge(agents::router())
        .merge(work_sessions::router())
        .merge(approvals::router())
        .merge(settings::router())
        .merge(gate::router())
        .merge(audit::router())
        .merge(websh::router())
        .merge(recordings::router())
        .merge(agent_ws::router())
        .merge(exec::router())
        .merge(files::router())
        .merge(tunnels::router())
        .merge(events::router())
        .merge(version::router())
}

/// `?limit=` clamped to 1..=500, default 50.
pub fn page_limit(limit: Option<i64>) -> i64 {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
}

/// The longest `?q=` of a search: a search is for a command or a message, not a paste.
pub const MAX_SEARCH_CHARS: usize = 200;

/// An empty filter value (`?scope=`) means "no filter", as a form that submits every field sends.
pub fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A `?from=`/`?to=` filter: RFC 3339, or empty for none.
pub fn parse_time(field: &str, value: Option<String>) -> ApiResult<Option<DateTime<Utc>>> {
    non_empty(value)
        .map(|v| {
            DateTime::parse_from_rfc3339(&v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ApiError::validation(field, "an RFC 3339 time such as 2026-11-24T09:00:00Z")
                })
        })
        .transpose()
}

/// The cursor of a list ordered newest first by `(created_at, id)`.
pub fn encode_cursor((created, id): &(i64, String)) -> String {
    format!("{created}_{id}")
}

pub fn decode_cursor(text: &str) -> ApiResult<(i64, String)> {
    let bad = || ApiError::validation("cursor", "not a cursor returned by this list");
    let (created, id) = text.split_once('_').ok_or_else(bad)?;
    let created = created.parse().map_err(|_| bad())?;
    uuid::Uuid::parse_str(id).map_err(|_| bad())?;
    Ok((created, id.to_owned()))
}
