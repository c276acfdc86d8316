//! Work sessions: request, list (the filter bar), read, timeline, and the transitions.

mod create;
mod list;
mod transitions;

use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::AuthUser;
use crate::store::work_sessions;
use axum::routing::{get, post};
use axum::Router;
use gatehouse_shared::{WorkSession, WorkSessionId};

pub use create::*;
pub use list::*;
pub use transitions::*;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/work-sessions",
            get(list_work_sessions).post(create_work_session),
        )
        .route("/api/work-sessions/{id}", get(get_work_session))
        .route("/api/work-sessions/{id}/timeline", get(timeline))
        .route("/api/work-sessions/{id}/approve", post(approve))
        .route("/api/work-sessions/{id}/reject", post(reject))
        .route("/api/work-sessions/{id}/revoke", post(revoke))
        .route("/api/work-sessions/{id}/cancel", post(cancel))
        .route("/api/work-sessions/{id}/activate", post(activate))
        .route("/api/work-sessions/{id}/complete", post(complete))
        .route("/api/work-sessions/{id}/extend", post(extend))
        .route("/api/work-sessions/{id}/use", post(use_session))
}

/// Staff and superusers see every session; members only those they requested or are assigned.
pub fn is_visible(session: &WorkSession, auth: &AuthUser) -> bool {
    auth.role.is_staff_or_above()
        || session.requested_by.id == auth.id
        || session.assignee.id == auth.id
}

/// The session if the caller may see it; otherwise 404, never 403 (no existence oracle).
pub async fn load_visible(
    state: &AppState,
    auth: &AuthUser,
    id: WorkSessionId,
) -> ApiResult<WorkSession> {
    work_sessions::get(&state.db, state.workspace, id)
        .await?
        .filter(|s| is_visible(s, auth))
        .ok_or_else(|| ApiError::not_found("work session"))
}
