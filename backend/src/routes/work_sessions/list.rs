//! Reading work sessions: the filtered list, one session, and its timeline.

use super::load_visible;
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery, AuthUser};
use crate::routes::{decode_cursor, encode_cursor, non_empty, page_limit, parse_time};
use crate::store::audit::{self as audit_store, AuditFilter};
use crate::store::users;
use crate::store::work_sessions::{self, Involving, ListFilter};
use axum::extract::State;
use axum::Json;
use gatehouse_shared::api::Page;
use gatehouse_shared::work_session::TimelineEvent;
use gatehouse_shared::{ErrorEnvelope, Scope, Status, WorkSession, WorkSessionId};
use serde::Deserialize;

/// The filter bar, as query parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// `all`, or a comma list of statuses; default `active`.
    pub status: Option<String>,
    /// `me`, `all` (default), or a username: sessions requested by or assigned to them.
    pub user: Option<String>,
    /// A server name the session covers.
    pub server: Option<String>,
    pub scope: Option<String>,
    /// Text the purpose contains.
    pub q: Option<String>,
    /// Created at or after (RFC 3339).
    pub from: Option<String>,
    /// Created before (RFC 3339).
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn parse_statuses(text: Option<&str>) -> ApiResult<Option<Vec<Status>>> {
    match text.map(str::trim) {
        None | Some("") => Ok(Some(vec![Status::Active])),
        Some("all") => Ok(None),
        Some(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<Status>()
                    .map_err(|e| ApiError::validation("status", e))
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Some),
    }
}

/// List work sessions with the filter bar's filters, newest first.
#[utoipa::path(get, path = "/api/work-sessions", tag = "work-sessions", params(SessionQuery),
    responses((status = 200, body = Page<WorkSession>), (status = 400, body = ErrorEnvelope)))]
pub async fn list_work_sessions(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<SessionQuery>,
) -> ApiResult<Json<Page<WorkSession>>> {
    let involving = match q.user.as_deref().map(str::trim) {
        None | Some("") | Some("all") => Involving::Anyone,
        Some("me") => Involving::User(auth.id),
        Some(name) => {
            let row = users::by_username(&state.db, state.workspace, name)
                .await?
                .ok_or_else(|| ApiError::validation("user", format!("no user {name}")))?;
            Involving::User(row.user_id()?)
        }
    };
    let filter = ListFilter {
        statuses: parse_statuses(q.status.as_deref())?,
        involving,
        visible_to: (!auth.role.is_staff_or_above()).then_some(auth.id),
        server: non_empty(q.server),
        scope: non_empty(q.scope)
            .map(|s| {
                s.parse::<Scope>()
                    .map_err(|e| ApiError::validation("scope", e.to_string()))
            })
            .transpose()?,
        q: non_empty(q.q),
        from: parse_time("from", q.from)?,
        to: parse_time("to", q.to)?,
        cursor: q.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: page_limit(q.limit),
    };
    let (items, total, next) = work_sessions::list(&state.db, state.workspace, &filter).await?;
    Ok(Json(Page {
        items,
        total,
        next_cursor: next.as_ref().map(encode_cursor),
    }))
}

/// One work session.
#[utoipa::path(get, path = "/api/work-sessions/{id}", tag = "work-sessions",
    params(("id" = String, Path, description = "work session id")),
    responses((status = 200, body = WorkSession), (status = 404, body = ErrorEnvelope)))]
pub async fn get_work_session(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<WorkSessionId>,
) -> ApiResult<Json<WorkSession>> {
    Ok(Json(load_visible(&state, &auth, id).await?))
}

/// Paging of the timeline.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Events per page (default 1000, max 5000).
    pub limit: Option<i64>,
    /// The `seq` after which to continue.
    pub cursor: Option<i64>,
}

/// Everything that happened in a work session, in order.
#[utoipa::path(get, path = "/api/work-sessions/{id}/timeline", tag = "work-sessions",
    params(("id" = String, Path, description = "work session id"), TimelineQuery),
    responses((status = 200, body = Page<TimelineEvent>), (status = 404, body = ErrorEnvelope)))]
pub async fn timeline(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<WorkSessionId>,
    ApiQuery(q): ApiQuery<TimelineQuery>,
) -> ApiResult<Json<Page<TimelineEvent>>> {
    load_visible(&state, &auth, id).await?;
    let limit = q.limit.unwrap_or(1000).clamp(1, 5000);
    let filter = AuditFilter {
        work_session: Some(id.to_string()),
        after_seq: q.cursor,
        // One extra row tells whether another page follows.
        limit: limit + 1,
        ..AuditFilter::default()
    };
    let (mut events, total) = audit_store::list(&state.db, state.workspace, &filter).await?;
    let next_cursor = if events.len() as i64 > limit {
        events.pop();
        events.last().map(|e| e.seq.to_string())
    } else {
        None
    };
    let items = events
        .into_iter()
        .map(|e| TimelineEvent {
            seq: e.seq,
            at: e.at,
            kind: e.action,
            actor: e.actor,
            outcome: e.outcome,
            target: e.target,
            server: e.server,
            details: e.details,
        })
        .collect();
    Ok(Json(Page {
        items,
        total,
        next_cursor,
    }))
}
