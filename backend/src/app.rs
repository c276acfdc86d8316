//! Builds the whole HTTP application: API routes, the OpenAPI document, the web console,
//! body limits, security headers, tracing, and an envelope for every unknown API path.

use crate::core::state::AppState;
use crate::error::ApiError;
use crate::{csp, openapi, routes};
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use gatehouse_shared::ErrorCode;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// The application over `state`; tests drive it with `oneshot`, `main` serves it.
pub fn app(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let mut router = Router::new()
        .merge(routes::router())
        .route(
            "/api/openapi.json",
            get(|| async { Json(openapi::document()) }),
        )
        .route("/api/{*rest}", any(fallback))
        .route("/healthz", get(|| async { "ok" }))
        .method_not_allowed_fallback(method_not_allowed);
    router = match &state.config.console_dir {
        // Unknown non-API paths are console routes: serve index.html and let the app route.
        Some(dir) => {
            let policy = csp::ConsolePolicy::new(dir);
            let console = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
            router.fallback_service(
                tower::ServiceBuilder::new()
                    .layer(SetResponseHeaderLayer::overriding(
                        header::CONTENT_SECURITY_POLICY,
                        move |_: &Response<_>| Some(policy.header()),
                    ))
                    .service(console),
            )
        }
        None => router.fallback(fallback),
    };
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        // A bug must not drop the connection without an answer: report `internal` instead.
        .layer(CatchPanicLayer::custom(panic_response))
        // Never log headers, bodies or query strings: they carry cookies, tokens, passwords
        // and a guest's join ticket. Only the method and path are logged.
        .layer(TraceLayer::new_for_http().make_span_with(
            |req: &axum::http::Request<axum::body::Body>| {
                tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
            },
        ))
        .with_state(state)
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::internal().into_response()
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
