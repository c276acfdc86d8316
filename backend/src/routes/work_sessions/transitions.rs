//! The transition endpoints: each is the pure lifecycle applied through `sessions::transition`.

use super::load_visible;
use crate::core::approvals::{self, Extended};
use crate::core::sessions::transition;
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiJsonOrDefault, ApiPath, AuthUser, Superuser};
use crate::store::logins;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_shared::approval::PendingApproval;
use gatehouse_shared::lifecycle::Action;
use gatehouse_shared::work_session::{ApproveWorkSession, DecisionReason, ExtendWorkSession};
use gatehouse_shared::{ErrorEnvelope, Status, WorkSession, WorkSessionId};

async fn act(
    state: &AppState,
    auth: &AuthUser,
    id: WorkSessionId,
    action: Action,
) -> ApiResult<Json<WorkSession>> {
    load_visible(state, auth, id).await?;
    Ok(Json(transition(state, id, &auth.actor(), &action).await?))
}

/// Approve a pending request (superusers; may narrow scopes, servers, root commands and tunnel
/// ports).
#[utoipa::path(post, path = "/api/work-sessions/{id}/approve", tag = "work-sessions",
    request_body = ApproveWorkSession, params(("id" = String, Path, description = "work session id")),
    responses((status = 200, body = WorkSession), (status = 403, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn approve(
    State(state): State<AppState>,
    Superuser(auth): Superuser,
    ApiPath(id): ApiPath<WorkSessionId>,
    ApiJsonOrDefault(body): ApiJsonOrDefault<ApproveWorkSession>,
) -> ApiResult<Json<WorkSession>> {
    let action = Action::Approve {
        scopes: body.scopes,
        servers: body.servers,
        sudo_commands: body.sudo_commands,
        tunnel_ports: body.tunnel_ports,
        reason: body
            .reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty()),
    };
    act(&state, &auth, id, action).await
}

/// Reject a pending request (superusers).
#[utoipa::path(post, path = "/api/work-sessions/{id}/reject", tag = "work-sessions",
    request_body = DecisionReason, params(("id" = String, Path, description = "work session id")),
    responses((status = 200, body = WorkSession), (status = 403, body = ErrorEnvelope)))]
pub async fn reject(
    State(state): State<AppState>,
    Superuser(auth): Superuser,
    ApiPath(id): ApiPath<WorkSessionId>,
    ApiJsonOrDefault(body): ApiJsonOrDefault<DecisionReason>,
) -> ApiResult<Json<WorkSession>> {
    let reason = body.trimmed();
    act(&state, &auth, id, Action::Reject { reason }).await
}

/// Revoke an approved or active session (superusers); its live channels end at once.
#[utoipa::path(post, path = "/api/work-sessions/{id}/revoke", tag = "work-sessions",
    request_body = DecisionReason, params(("id" = String, Path, description = "work session id")),
    responses((status = 200, body = WorkSession), (status = 403, body = ErrorEnvelope)))]
pub async fn revoke(
    State(state): State<AppState>,
    Superuser(auth): Superuser,
    ApiPath(id): ApiPath<WorkSessionId>,
    ApiJsonOrDefault(body): ApiJsonOrDefault<DecisionReason>,
) -> ApiResult<Json<WorkSession>> {
    let reason = body.trimmed();
    act(&state, &auth, id, Action::Revoke { reason }).await
}

/// Withdraw a pending request (the requester).
#[utoipa::path(post, path = "/api/work-sessions/{id}/cancel", tag = "work-sessions",
    params(("id" = String, Path, description = "work session id")),
    responses((status = 200, body = WorkSession), (status = 409, body = ErrorEnvelope)))]
pub async fn cancel(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<WorkSessionId>,
) -> ApiResult<Json<WorkSession>> {
    act(&state, &auth, id, Action::Cancel).await
}

/// Start an approved session (the assignee); a duration window starts counting now.
#[utoipa::path(post, path = "/api/work-sessions/{id}/activate", tag = "work-sessions",
    params(("id" = String, Path, description = "work session id")),
    responses((status = 200, body = WorkSession), (status = 409, body = ErrorEnvelope)))]
pub async fn activate(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<WorkSessionId>,
) -> ApiResult<Json<WorkSession>> {
    act(&state, &auth, id, Action::Activate).await
}

/// Finish an active session early.
#[utoipa::path(post, path = "/api/work-sessions/{id}/complete", tag = "work-sessions",
    params(("id" = String, Path, description = "work session id")),
    responses((status = 200, body = WorkSession), (status = 409, body = ErrorEnvelope)))]
pub async fn complete(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<WorkSessionId>,
) -> ApiResult<Json<WorkSession>> {
    act(&state, &auth, id, Action::Complete).await
}

/// Push the expiry back, within the workspace maximum. A superuser's extension applies at once;
/// anyone else's does within the workspace's self-extension allowance, and beyond it becomes a
/// pending extension (202) that an approver decides, the session keeping its expiry meanwhile.
#[utoipa::path(post, path = "/api/work-sessions/{id}/extend", tag = "work-sessions",
    request_body = ExtendWorkSession, params(("id" = String, Path, description = "work session id")),
    responses((status = 200, body = WorkSession), (status = 202, body = PendingApproval),
              (status = 400, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn extend(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<WorkSessionId>,
    ApiJson(body): ApiJson<ExtendWorkSession>,
) -> ApiResult<Response> {
    load_visible(&state, &auth, id).await?;
    Ok(
        match approvals::extend(&state, &auth.actor(), id, &body).await? {
            Extended::Now(session) => Json(session).into_response(),
            Extended::Pending(pending) => (StatusCode::ACCEPTED, Json(pending)).into_response(),
        },
    )
}

/// Make the session the caller's active one for this sign-in (activating it if approved).
#[utoipa::path(post, path = "/api/work-sessions/{id}/use", tag = "work-sessions",
    params(("id" = String, Path, description = "work session id")),
    responses((status = 200, body = WorkSession), (status = 400, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn use_session(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<WorkSessionId>,
) -> ApiResult<Json<WorkSession>> {
    let Some(login) = &auth.login else {
        return Err(ApiError::bad_request(
            "use applies to a browser or CLI sign-in; API tokens name the session in X-Work-Session",
        ));
    };
    let mut session = load_visible(&state, &auth, id).await?;
    if session.assignee.id != auth.id {
        return Err(ApiError::forbidden(
            "only the assignee can use a work session",
        ));
    }
    if session.status == Status::Approved {
        session = transition(&state, id, &auth.actor(), &Action::Activate).await?;
    }
    if session.status != Status::Active {
        return Err(ApiError::new(
            gatehouse_shared::ErrorCode::InvalidTransition,
            format!("cannot use a work session that is {}", session.status),
        ));
    }
    logins::set_active_work_session(&state.db, state.workspace, &login.token_hash, Some(id))
        .await?;
    Ok(Json(session))
}
