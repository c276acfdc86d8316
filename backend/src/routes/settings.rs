//! `GET/PATCH /api/settings`: the workspace's knobs, for superusers.

use crate::core::settings;
use crate::core::state::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Superuser};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use gatehouse_shared::settings::{Settings, SettingsPatch};
use gatehouse_shared::ErrorEnvelope;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/settings", get(read).patch(update))
}

/// The workspace settings.
#[utoipa::path(get, path = "/api/settings", tag = "settings",
    responses((status = 200, body = Settings), (status = 403, body = ErrorEnvelope)))]
pub async fn read(State(state): State<AppState>, _su: Superuser) -> ApiResult<Json<Settings>> {
    Ok(Json(
        crate::store::workspace_settings(&state.db, state.workspace).await?,
    ))
}

/// Change some settings; each change is audited with its old and new value.
#[utoipa::path(patch, path = "/api/settings", tag = "settings", request_body = SettingsPatch,
    responses((status = 200, body = Settings), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope)))]
pub async fn update(
    State(state): State<AppState>,
    Superuser(auth): Superuser,
    ApiJson(patch): ApiJson<SettingsPatch>,
) -> ApiResult<Json<Settings>> {
    Ok(Json(
        settings::update(&state, &auth.username, &patch).await?,
    ))
}
