//! `GET /api/version`: the server's release and API version, without signing in, so a client
//! can tell before anything else whether it speaks this server's API.

use crate::core::state::AppState;
use axum::routing::get;
use axum::{Json, Router};
use gatehouse_shared::api::{VersionInfo, API_VERSION};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/version", get(version))
}

/// The server's release and the API major version it speaks.
#[utoipa::path(get, path = "/api/version", tag = "identity",
    responses((status = 200, body = VersionInfo)))]
pub async fn version() -> Json<VersionInfo> {
    Json(VersionInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        api: API_VERSION,
    })
}
