//! Work sessions: request, list (the filter bar), read, timeline, and the transitions.

mod create;
mod list;
mod transitions;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;

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
