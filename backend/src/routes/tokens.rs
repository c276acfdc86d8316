//! The caller's API tokens: shown once, stored hashed, expiring, revocable.

use crate::core::admin;
use crate::core::state::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, AuthUser};
use crate::store::tokens;
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use gatehouse_shared::api::Page;
use gatehouse_shared::token::{ApiToken, CreateApiToken, CreatedApiToken};
use gatehouse_shared::{ErrorEnvelope, TokenId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tokens", get(list_tokens).post(create_token))
        .route("/api/tokens/{id}", delete(revoke_token))
}

/// The caller's tokens (never their secrets).
#[utoipa::path(get, path = "/api/tokens", tag = "identity",
    responses((status = 200, body = Page<ApiToken>), (status = 401, body = ErrorEnvelope)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    auth: AuthUser,
) -> ApiResult<Json<Page<ApiToken>>> {
    let items = tokens::list_for_user(&state.db, state.workspace, auth.id).await?;
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
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiToken {
            id: issued.id,
            name: req.name.trim().to_owned(),
            token: issued.token,
            expires_at: Some(issued.expires_at),
        }),
    ))
}

/// Revoke one of the caller's tokens.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "identity",
    params(("id" = String, Path, description = "token id")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<TokenId>,
) -> ApiResult<StatusCode> {
    admin::revoke_api_token(&state.db, state.workspace, auth.by(), auth.id, id, now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
