//! Users (staff and above) and direct server grants.

use crate::audit::{self, SUCCESS};
use crate::auth::password;
use crate::error::{is_unique_violation, ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use crate::routes::page_limit;
use crate::state::AppState;
use crate::store::users::{self, NewUser};
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use gatehouse_shared::api::{AddGroupServers, CreateUser, Page};
use gatehouse_shared::pattern::is_valid_pattern;
use gatehouse_shared::user::{is_valid_username, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
use gatehouse_shared::{ErrorEnvelope, Role, User, UserId};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(list_users).post(create_user))
        .route("/api/users/{id}/servers", post(grant_servers))
}

/// Username and password rules shared by set-up, user creation and the admin command.
pub fn validate_credentials(username: &str, password: &str) -> ApiResult<()> {
    if !is_valid_username(username) {
        return Err(ApiError::validation(
            "username",
            "1-64 characters: letters, digits, '.', '_', '-', '@'",
        ));
    }
    let len = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&len) {
        return Err(ApiError::validation(
            "password",
            format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
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
    auth: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<User>>> {
    auth.require_staff()?;
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
    auth: AuthUser,
    ApiJson(req): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    auth.require_staff()?;
    if req.role != Role::Member {
        auth.require_superuser()?;
    }
    validate_credentials(&req.username, &req.password)?;
    if let Some(email) = &req.email {
        if email.len() > 254 || !email.contains('@') {
            return Err(ApiError::validation("email", "not an e-mail address"));
        }
    }
    let hash = password::hash(req.password)
        .await
        .map_err(|_| ApiError::internal())?;
    let new = NewUser {
        username: &req.username,
        email: req.email.as_deref(),
        role: req.role,
        password_hash: &hash,
    };
    let user = users::insert(&state.db, state.workspace, &new, now())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                ApiError::conflict(format!("user {} already exists", req.username))
            } else {
                e.into()
            }
        })?;
    audit::record(
        &state,
        audit::event("user.created", SUCCESS)
            .actor(&auth.username)
            .target(&user.username)
            .details(serde_json::json!({"role": user.role})),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Grant a user servers directly by name or pattern (staff and above).
#[utoipa::path(post, path = "/api/users/{id}/servers", tag = "identity", request_body = AddGroupServers,
    params(("id" = String, Path, description = "user id")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn grant_servers(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(req): ApiJson<AddGroupServers>,
) -> ApiResult<StatusCode> {
    auth.require_staff()?;
    if !is_valid_pattern(&req.pattern) {
        return Err(ApiError::validation(
            "pattern",
            "a server name or pattern such as web-*",
        ));
    }
    let user = users::by_id(&state.db, state.workspace, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    users::add_server_grant(&state.db, state.workspace, id, &req.pattern).await?;
    audit::record(
        &state,
        audit::event("user.servers_granted", SUCCESS)
            .actor(&auth.username)
            .target(&user.username)
            .details(serde_json::json!({"pattern": req.pattern})),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
