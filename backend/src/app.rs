//! Builds the whole HTTP application: API routes, the OpenAPI document, body limits, tracing,
//! and an envelope for every unknown path.

use crate::error::ApiError;
use crate::state::AppState;
use crate::{openapi, routes};
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::routing::get;
use axum::{Json, Router};
use gatehouse_shared::ErrorCode;
use tower_http::trace::TraceLayer;

/// The application over `state`; tests drive it with `oneshot`, `main` serves it.
pub fn app(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .merge(routes::router())
        .route(
            "/api/openapi.json",
            get(|| async { Json(openapi::document()) }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        // Never log headers or bodies: they carry cookies, tokens and passwords.
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn fallback(uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("no such endpoint: {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::bad_request(format!("{method} is not supported on {}", uri.path()))
}
