//! Reading the audit log (staff and above): filtered pages, JSON Lines export, verification.

use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, Staff};
use crate::routes::{non_empty, page_limit, MAX_SEARCH_CHARS};
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
    /// Text in the actor, action, target or details (case-insensitive).
    q: Option<String>,
    /// The start of an id, at least 4 hex characters (the 8 the console shows, or a whole UUID):
    /// events whose target, work session or an id in their details begins with it.
    id: Option<String>,
    /// `oldest` (the default: chain order, as exports and verification read it) or `newest`.
    order: Option<String>,
    limit: Option<i64>,
    /// The `seq` from which to continue (after it oldest first, before it newest first).
    cursor: Option<i64>,
    /// `jsonl` exports JSON Lines (also chosen by `Accept: application/x-ndjson`).
    format: Option<String>,
}

/// Audit events in chain order, or newest first with `?order=newest`; `?format=jsonl`
/// streams them as JSON Lines (always in chain order).
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
    let newest_first = match non_empty(q.order).as_deref() {
        None | Some("oldest") => false,
        Some("newest") => true,
        Some(_) => return Err(ApiError::validation("order", "oldest or newest")),
    };
    let id_prefix = non_empty(q.id)
        .map(|id| {
            let hex = id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            if hex && (4..=36).contains(&id.len()) {
                Ok(id)
            } else {
                Err(ApiError::validation(
                    "id",
                    "the start of an id: 4 to 36 hex characters (such as 3f2a9c1e)",
                ))
            }
        })
        .transpose()?;
    let text = q.q.filter(|t| !t.trim().is_empty());
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_SEARCH_CHARS)
    {
        return Err(ApiError::validation(
            "q",
            format!("at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    // An export is the chain itself: always in order, whatever a page would show.
    let newest_first = newest_first && !wants_lines;
    let filter = AuditFilter {
        actor: q.user,
        action: q.action,
        server: q.server,
        work_session: q.work_session,
        from: q.from,
        to: q.to,
        q: text,
        id_prefix,
        after_seq: q.cursor.filter(|_| !newest_first),
        before_seq: q.cursor.filter(|_| newest_first),
        newest_first,
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
