//! Reading the audit log (staff and above): filtered pages, JSON Lines export, verification.

use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, Staff};
use crate::routes::page_limit;
use crate::store::audit::{self as store, AuditFilter};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use gatehouse_shared::api::Page;
use gatehouse_shared::audit::{AuditEvent, AuditVerification};
use gatehouse_shared::ErrorEnvelope;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/audit", get(list_audit))
        .route("/api/audit/verify", get(verify_audit))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Username of the actor.
    user: Option<String>,
    /// Exact action, or a prefix ending in `*` (`work_session.*`).
    action: Option<String>,
    server: Option<String>,
    work_session: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: Option<i64>,
    /// The `seq` after which to continue.
    cursor: Option<i64>,
    /// `jsonl` exports JSON Lines (also chosen by `Accept: application/x-ndjson`).
    format: Option<String>,
}

/// Audit events in order; `?format=jsonl` streams them as JSON Lines.
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Page<AuditEvent>), (status = 403, body = ErrorEnvelope)))]
pub async fn list_audit(
    State(state): State<AppState>,
    _: Staff,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    let wants_lines = q.format.as_deref() == Some("jsonl")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/x-ndjson"));
    if let Some(format) = q.format.as_deref() {
        if format != "jsonl" && format != "json" {
            return Err(ApiError::validation("format", "json or jsonl"));
        }
    }
    let filter = AuditFilter {
        actor: q.user,
        action: q.action,
        server: q.server,
        work_session: q.work_session,
        from: q.from,
        to: q.to,
        after_seq: q.cursor,
        // An export takes everything after the cursor; a page takes `limit`, plus one row that
        // tells whether another page follows.
        limit: if wants_lines {
            i64::MAX
        } else {
            page_limit(q.limit) + 1
        },
    };
    let (mut items, total) = store::list(&state.db, state.workspace, &filter).await?;
    if wants_lines {
        let mut body = String::new();
        for event in &items {
            body.push_str(&serde_json::to_string(event).map_err(|_| ApiError::internal())?);
            body.push('\n');
        }
        return Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response());
    }
    let next_cursor = if items.len() as i64 == filter.limit {
        items.pop();
        items.last().map(|e| e.seq.to_string())
    } else {
        None
    };
    Ok(Json(Page {
        items,
        total,
        next_cursor,
    })
    .into_response())
}

/// Walk the hash chain; reports the first edited, removed or reordered row.
#[utoipa::path(get, path = "/api/audit/verify", tag = "audit",
    responses((status = 200, body = AuditVerification), (status = 403, body = ErrorEnvelope)))]
pub async fn verify_audit(
    State(state): State<AppState>,
    _: Staff,
) -> ApiResult<Json<AuditVerification>> {
    Ok(Json(store::verify(&state.db, state.workspace).await?))
}
