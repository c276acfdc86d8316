//! The caller's API tokens: shown once, stored hashed, expiring, revocable.

use crate::audit::{self, SUCCESS};
use crate::auth::secrets;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, AuthUser};
use crate::state::AppState;
use crate::store::tokens;
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::Duration;
use gatehouse_shared::api::Page;
use gatehouse_shared::token::{
    ApiToken, CreateApiToken, CreatedApiToken, MAX_TOKEN_DAYS, TOKEN_PREFIX,
};
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
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::validation("name", "1-100 characters"));
    }
    let days = req.expires_in_days.unwrap_or(90);
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        return Err(ApiError::validation(
            "expires_in_days",
            format!("between 1 and {MAX_TOKEN_DAYS}"),
        ));
    }
    let now = now();
    let expires_at = now + Duration::days(days);
    let token = format!("{TOKEN_PREFIX}{}", secrets::random_secret());
    let id = tokens::insert(
        &state.db,
        state.workspace,
        auth.id,
        name,
        &secrets::sha256_hex(&token),
        Some(expires_at),
        now,
    )
    .await?;
    audit::record(
        &state,
        audit::event("token.created", SUCCESS)
            .actor(&auth.username)
            .target(id.to_string())
            .details(serde_json::json!({"name": name, "expires_at": expires_at})),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiToken {
            id,
            name: name.to_owned(),
            token,
            expires_at: Some(expires_at),
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
    if !tokens::revoke(&state.db, state.workspace, auth.id, id, now()).await? {
        return Err(ApiError::not_found("token"));
    }
    audit::record(
        &state,
        audit::event("token.revoked", SUCCESS)
            .actor(&auth.username)
            .target(id.to_string()),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
