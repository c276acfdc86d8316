//! Users (staff and above), direct server grants, and staff resets of a person's password or
//! MFA.

use crate::core::admin::{self, NewAccount};
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Staff};
use crate::routes::page_limit;
use crate::store::users;
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use gatehouse_shared::api::{
    AddGroupServers, CreateUser, MfaReset, Page, PasswordReset, UpdateUser,
};
use gatehouse_shared::{ErrorEnvelope, Role, User, UserId};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(list_users).post(create_user))
        .route("/api/users/{id}", axum::routing::patch(update_user))
        .route("/api/users/{id}/servers", post(grant_servers))
        .route("/api/users/{id}/password-reset", post(reset_password))
        .route("/api/users/{id}/mfa-reset", post(reset_mfa))
}

/// Give a person a one-time password (staff, step-up MFA): shown only in this answer, it must
/// be replaced at their next sign-in; every sign-in of theirs ends, and their work sessions
/// with it. A superuser only a superuser resets; nobody resets themselves here.
#[utoipa::path(post, path = "/api/users/{id}/password-reset", tag = "identity",
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = PasswordReset), (status = 401, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn reset_password(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<PasswordReset>> {
    auth.require_mfa_step_up(&state).await?;
    let done = admin::reset_password(&state, auth.by(), auth.role, id, now()).await?;
    Ok(Json(PasswordReset {
        user: done.user,
        one_time_password: done.one_time_password,
        signins_ended: done.signins_ended,
    }))
}

/// Remove a person's TOTP and recovery codes (staff, step-up MFA); every sign-in of theirs
/// ends. The same rules of whom as the password reset.
#[utoipa::path(post, path = "/api/users/{id}/mfa-reset", tag = "identity",
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = MfaReset), (status = 401, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn reset_mfa(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<MfaReset>> {
    auth.require_mfa_step_up(&state).await?;
    let (user, signins_ended) = admin::reset_mfa(&state, auth.by(), auth.role, id, now()).await?;
    Ok(Json(MfaReset {
        user,
        signins_ended,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    limit: Option<i64>,
    /// The last username of the previous page.
    cursor: Option<String>,
}

/// List users, ordered by username (staff and above).
#[utoipa::path(get, path = "/api/users", tag = "identity", params(ListQuery),
    responses((status = 200, body = Page<User>), (status = 403, body = ErrorEnvelope)))]
pub async fn list_users(
    State(state): State<AppState>,
    _: Staff,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<User>>> {
    let limit = page_limit(q.limit);
    let mut rows = users::list(&state.db, state.workspace, q.cursor.as_deref(), limit + 1).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.username.clone())
    } else {
        None
    };
    let items = rows
        .iter()
        .map(|r| r.to_user())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Page {
        items,
        total: users::count(&state.db, state.workspace).await?,
        next_cursor,
    }))
}

/// Create a user (staff and above; only a superuser creates staff or superusers).
#[utoipa::path(post, path = "/api/users", tag = "identity", request_body = CreateUser,
    responses((status = 201, body = User), (status = 403, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn create_user(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiJson(req): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    if req.role != Role::Member {
        auth.require_superuser()?;
    }
    let account = NewAccount {
        username: req.username,
        email: req.email,
        role: req.role,
        password: req.password,
        unix_user: req.unix_user,
    };
    let user =
        admin::create_user(&state.db, state.workspace, auth.by(), account, false, now()).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Grant a user servers directly by name or pattern (staff and above).
#[utoipa::path(post, path = "/api/users/{id}/servers", tag = "identity", request_body = AddGroupServers,
    params(("id" = String, Path, description = "user id")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn grant_servers(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(req): ApiJson<AddGroupServers>,
) -> ApiResult<StatusCode> {
    admin::grant_user_servers(
        &state.db,
        state.workspace,
        auth.by(),
        id,
        &req.pattern,
        now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change a person: role (superusers), disabled (sign-ins, tokens and live channels end at
/// once), own server account. Staff change members; a staff member or superuser only a
/// superuser changes.
#[utoipa::path(patch, path = "/api/users/{id}", tag = "identity", request_body = UpdateUser,
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = User), (status = 404, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn update_user(
    State(state): State<AppState>,
    Staff(auth): Staff,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(req): ApiJson<UpdateUser>,
) -> ApiResult<Json<User>> {
    let target = users::by_id(&state.db, state.workspace, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    if target.role()? != Role::Member {
        auth.require_superuser()?;
    }
    let user = admin::update_user(&state, auth.by(), auth.role, id, &req, now()).await?;
    Ok(Json(user))
}
