//! `/api/service-accounts`: non-human principals for CI pipelines and AI agents (superusers
//! only), and their `ghst_` tokens.

use crate::core::service_accounts;
use crate::core::state::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, Superuser};
use crate::store::tokens;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use gatehouse_shared::acl::api::{NewServiceAccount, ServiceAccount};
use gatehouse_shared::api::Page;
use gatehouse_shared::token::{ApiToken, CreateApiToken, CreatedApiToken};
use gatehouse_shared::{ErrorEnvelope, UserId};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/service-accounts",
            get(list_accounts).post(create_account),
        )
        .route(
            "/api/service-accounts/{id}/tokens",
            post(create_account_token).get(list_account_tokens),
        )
}

/// Every service account.
#[utoipa::path(get, path = "/api/service-accounts", tag = "tokens",
    responses((status = 200, body = Page<ServiceAccount>), (status = 403, body = ErrorEnvelope)))]
pub async fn list_accounts(
    State(state): State<AppState>,
    Superuser(_): Superuser,
) -> ApiResult<Json<Page<ServiceAccount>>> {
    let items = service_accounts::list(&state).await?;
    Ok(Json(Page {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// Create a service account (interactive superuser sign-in).
#[utoipa::path(post, path = "/api/service-accounts", tag = "tokens", request_body = NewServiceAccount,
    responses((status = 201, body = ServiceAccount), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn create_account(
    State(state): State<AppState>,
    Superuser(auth): Superuser,
    ApiJson(req): ApiJson<NewServiceAccount>,
) -> ApiResult<(StatusCode, Json<ServiceAccount>)> {
    auth.require_interactive()?;
    let account =
        service_accounts::create(&state, auth.by(), &req.name, req.description.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// Issue a token to a service account; its secret (`ghst_...`) is in this response only.
#[utoipa::path(post, path = "/api/service-accounts/{id}/tokens", tag = "tokens", request_body = CreateApiToken,
    params(("id" = String, Path, description = "service account id")),
    responses((status = 201, body = CreatedApiToken), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn create_account_token(
    State(state): State<AppState>,
    Superuser(auth): Superuser,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(req): ApiJson<CreateApiToken>,
) -> ApiResult<(StatusCode, Json<CreatedApiToken>)> {
    auth.require_step_up(&state).await?;
    let issued = service_accounts::issue_token(
        &state,
        auth.by(),
        id,
        &req.name,
        req.expires_in_days.unwrap_or(90),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(issued.shown(&req.name))))
}

/// A service account's tokens (never their secrets).
#[utoipa::path(get, path = "/api/service-accounts/{id}/tokens", tag = "tokens",
    params(("id" = String, Path, description = "service account id")),
    responses((status = 200, body = Page<ApiToken>), (status = 403, body = ErrorEnvelope)))]
pub async fn list_account_tokens(
    State(state): State<AppState>,
    Superuser(_): Superuser,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<Page<ApiToken>>> {
    let items = tokens::list_for_user(&state.db, state.workspace, id).await?;
    Ok(Json(Page {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}
