//! The caller's API tokens: shown once, stored hashed, expiring, revocable.

use crate::core::admin;
use crate::core::state::AppState;
use crate::core::token_acl;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use crate::store::tokens;
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use gatehouse_shared::api::Page;
use gatehouse_shared::token::{ApiToken, CreateApiToken, CreatedApiToken};
use gatehouse_shared::{ErrorEnvelope, Role, TokenId};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tokens", get(list_tokens).post(create_token))
        .route("/api/tokens/{id}", delete(revoke_token))
}

/// `?all=true`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokensQuery {
    /// Every token in the workspace, with its owner (superusers only).
    all: Option<bool>,
}

/// The caller's tokens (never their secrets); a superuser's `?all=true` lists everyone's.
#[utoipa::path(get, path = "/api/tokens", tag = "identity", params(TokensQuery),
    responses((status = 200, body = Page<ApiToken>), (status = 401, body = ErrorEnvelope)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<TokensQuery>,
) -> ApiResult<Json<Page<ApiToken>>> {
    let items = if q.all == Some(true) {
        auth.require_superuser()?;
        tokens::list_all(&state.db, state.workspace).await?
    } else {
        tokens::list_for_user(&state.db, state.workspace, auth.id).await?
    };
    Ok(Json(Page {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// Create a token; its secret is in this response only.
#[utoipa::path(post, path = "/api/tokens", tag = "identity", request_body = CreateApiToken,
    responses((status = 201, body = CreatedApiToken), (status = 400, body = ErrorEnvelope)))]
pub async fn create_token(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(req): ApiJson<CreateApiToken>,
) -> ApiResult<(StatusCode, Json<CreatedApiToken>)> {
    auth.require_step_up(&state).await?;
    let issued = admin::issue_api_token(
        &state.db,
        state.workspace,
        auth.by(),
        auth.id,
        &req.name,
        req.expires_in_days.unwrap_or(90),
        now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(issued.shown(&req.name))))
}

/// Revoke one of the caller's tokens (a superuser may also revoke a service account's).
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "identity",
    params(("id" = String, Path, description = "token id")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<StatusCode> {
    let facts = token_acl::any_token(&state, id).await?;
    let owner = if facts.owner == auth.id {
        auth.id
    } else if facts.service_account && auth.role == Role::Superuser {
        auth.require_interactive()?;
        facts.owner
    } else {
        return Err(ApiError::not_found("token"));
    };
    admin::revoke_api_token(&state.db, state.workspace, auth.by(), owner, id, now()).await?;
    // Its running commands and terminals end now, not at the watcher's next sweep.
    crate::core::gateway::watcher::token_revoked(&state, id).await;
    Ok(StatusCode::NO_CONTENT)
}
