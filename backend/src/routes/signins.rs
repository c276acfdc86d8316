//! A person's own sign-ins, browser and `gate` CLI together: list them, end one.

use crate::core::audit::{self, SUCCESS};
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, AuthUser};
use crate::store::{logins, WriteTx};
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use gatehouse_shared::api::Page;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::signin::Signin;
use gatehouse_shared::ErrorEnvelope;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/signins", get(list))
        .route("/api/auth/signins/{id}", delete(revoke))
}

/// The caller's unexpired sign-ins, newest first; the one this request came with is `current`.
#[utoipa::path(get, path = "/api/auth/signins", tag = "identity",
    responses((status = 200, body = Page<Signin>), (status = 401, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope)))]
pub async fn list(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Json<Page<Signin>>> {
    auth.require_interactive()?;
    let current = auth.login.as_ref().map(|l| l.token_hash.as_str());
    let items = logins::list_of(&state.db, state.workspace, auth.id, current, now()).await?;
    Ok(Json(Page {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// End one of the caller's sign-ins (this one too: that is signing out).
#[utoipa::path(delete, path = "/api/auth/signins/{id}", tag = "identity",
    params(("id" = Uuid, Path, description = "The sign-in")),
    responses((status = 204), (status = 401, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    auth.require_interactive()?;
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    let Some(client) = logins::delete_by_id(&mut tx, auth.id, id).await? else {
        return Err(ApiError::not_found("sign-in"));
    };
    tx.commit(
        audit::event(AuditAction::AuthSigninRevoked, SUCCESS)
            .actor(&auth.username)
            .details(serde_json::json!({"signin": id, "client": client.as_str()})),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
