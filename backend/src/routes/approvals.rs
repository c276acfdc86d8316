//! `GET /api/approvals[/{id}]` and `POST /api/approvals/{id}/approve|reject`: one queue of every
//! decision waiting for a superuser (new work sessions, extensions past an approved window).

use crate::core::approvals::{self, Query, Viewer};
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJsonOrDefault, ApiPath, ApiQuery, AuthUser, Superuser};
use crate::routes::page_limit;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use gatehouse_shared::api::Page;
use gatehouse_shared::approval::{Approval, ApprovalKind, ApprovalStatus};
use gatehouse_shared::work_session::DecisionReason;
use gatehouse_shared::{ErrorEnvelope, WorkSessionId};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/approvals", get(list))
        .route("/api/approvals/{id}", get(read))
        .route("/api/approvals/{id}/approve", post(approve))
        .route("/api/approvals/{id}/reject", post(reject))
}

/// The queue's filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalQuery {
    /// `all`, or a comma list of `pending, approved, rejected, cancelled, lapsed`; default `pending`.
    pub status: Option<String>,
    /// `work_session` or `extension`; default both.
    pub kind: Option<String>,
    /// Only the approvals about this work session.
    pub work_session: Option<String>,
    pub limit: Option<i64>,
}

fn parse_query(q: ApprovalQuery) -> ApiResult<Query> {
    let statuses = match q.status.as_deref().map(str::trim) {
        None | Some("") => vec![ApprovalStatus::Pending],
        Some("all") => ApprovalStatus::ALL.to_vec(),
        Some(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .map_err(|e| ApiError::validation("status", e))
            })
            .collect::<ApiResult<_>>()?,
    };
    let kind = match q.kind.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(kind) => Some(
            kind.parse::<ApprovalKind>()
                .map_err(|e| ApiError::validation("kind", e))?,
        ),
    };
    let work_session = match q.work_session.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) => Some(
            id.parse::<WorkSessionId>()
                .map_err(|_| ApiError::validation("work_session", "not a work session id"))?,
        ),
    };
    Ok(Query {
        statuses,
        kind,
        work_session,
        limit: page_limit(q.limit),
    })
}

fn viewer(auth: &AuthUser) -> Viewer {
    Viewer {
        id: auth.id,
        role: auth.role,
    }
}

/// The queue: a superuser sees every request, anyone else their own; newest first.
#[utoipa::path(get, path = "/api/approvals", tag = "approvals", params(ApprovalQuery),
    responses((status = 200, body = Page<Approval>), (status = 400, body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<ApprovalQuery>,
) -> ApiResult<Json<Page<Approval>>> {
    let items = approvals::list(&state, viewer(&auth), &parse_query(q)?).await?;
    Ok(Json(Page {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// One approval and where it stands.
#[utoipa::path(get, path = "/api/approvals/{id}", tag = "approvals",
    params(("id" = String, Path, description = "approval id")),
    responses((status = 200, body = Approval), (status = 404, body = ErrorEnvelope)))]
pub async fn read(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Approval>> {
    Ok(Json(approvals::get(&state, viewer(&auth), id).await?))
}

/// Approve a request (superusers, never their own).
#[utoipa::path(post, path = "/api/approvals/{id}/approve", tag = "approvals",
    request_body = DecisionReason, params(("id" = String, Path, description = "approval id")),
    responses((status = 200, body = Approval), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn approve(
    State(state): State<AppState>,
    Superuser(auth): Superuser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJsonOrDefault(body): ApiJsonOrDefault<DecisionReason>,
) -> ApiResult<Json<Approval>> {
    decide(&state, &auth, id, true, body).await
}

/// Reject a request (superusers, never their own).
#[utoipa::path(post, path = "/api/approvals/{id}/reject", tag = "approvals",
    request_body = DecisionReason, params(("id" = String, Path, description = "approval id")),
    responses((status = 200, body = Approval), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn reject(
    State(state): State<AppState>,
    Superuser(auth): Superuser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJsonOrDefault(body): ApiJsonOrDefault<DecisionReason>,
) -> ApiResult<Json<Approval>> {
    decide(&state, &auth, id, false, body).await
}

async fn decide(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    approve: bool,
    body: DecisionReason,
) -> ApiResult<Json<Approval>> {
    let reason = body.trimmed();
    Ok(Json(
        approvals::decide(state, &auth.actor(), id, approve, reason).await?,
    ))
}
