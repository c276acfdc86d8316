//! `POST /api/setup`: creates the first superuser of a fresh installation.

use crate::audit::{self, SUCCESS};
use crate::auth::password;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::routes::users::validate_credentials;
use crate::state::AppState;
use crate::store::users::{self, NewUser};
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use gatehouse_shared::api::{SetupRequest, SetupStatus};
use gatehouse_shared::{ErrorEnvelope, Role, User};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/setup", get(setup_status).post(setup))
}

/// Whether the installation still needs its first user (the console shows set-up instead of sign-in).
#[utoipa::path(get, path = "/api/setup", tag = "identity",
    responses((status = 200, body = SetupStatus)))]
pub async fn setup_status(State(state): State<AppState>) -> ApiResult<Json<SetupStatus>> {
    let needed = users::count(&state.db, state.workspace).await? == 0;
    Ok(Json(SetupStatus { needed }))
}

/// Create the first superuser; refused once any user exists.
#[utoipa::path(post, path = "/api/setup", tag = "identity", request_body = SetupRequest,
    responses((status = 201, body = User), (status = 409, body = ErrorEnvelope)))]
pub async fn setup(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SetupRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    if users::count(&state.db, state.workspace).await? > 0 {
        return Err(ApiError::conflict("set-up is done: a user already exists"));
    }
    validate_credentials(&req.username, &req.password)?;
    let hash = password::hash(req.password)
        .await
        .map_err(|_| ApiError::internal())?;
    let new = NewUser {
        username: &req.username,
        email: None,
        role: Role::Superuser,
        password_hash: &hash,
    };
    let user = users::insert_first(&state.db, state.workspace, &new, now())
        .await?
        .ok_or_else(|| ApiError::conflict("set-up is done: a user already exists"))?;
    audit::record(
        &state,
        audit::event("setup.first_superuser", SUCCESS)
            .actor(&user.username)
            .target(&user.username),
    )
    .await?;
    tracing::info!(username = %user.username, "first superuser created");
    Ok((StatusCode::CREATED, Json(user)))
}
