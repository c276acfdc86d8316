//! `POST /api/setup`: creates the first superuser of a fresh installation.

use crate::core::admin::{self, By, NewAccount};
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::store::users;
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
    let account = NewAccount {
        username: req.username,
        email: None,
        role: Role::Superuser,
        password: req.password,
        unix_user: None,
    };
    // The first user creates themselves.
    let name = account.username.clone();
    let by = By {
        id: None,
        name: &name,
    };
    let user = admin::create_user(&state.db, state.workspace, by, account, true, now()).await?;
    tracing::info!(username = %user.username, "first superuser created");
    Ok((StatusCode::CREATED, Json(user)))
}
