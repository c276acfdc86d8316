//! `GET /api/recordings`: terminals' recordings with their context, filtered by person, server,
//! work session and time, and searched by the text typed or shown. Members see only their own,
//! staff and superusers everyone's (as for the recording itself and the live-terminals list).

use crate::core::recordings;
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery, AuthUser};
use crate::routes::{
    decode_cursor, encode_cursor, non_empty, page_limit, parse_time, MAX_SEARCH_CHARS,
};
use crate::store::recordings::RecordingFilter;
use crate::store::users;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use gatehouse_shared::api::Page;
use gatehouse_shared::recording::Recording;
use gatehouse_shared::{ErrorEnvelope, WorkSessionId};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/recordings", get(list_recordings))
        .route("/api/recordings/{id}", get(get_recording))
}

/// The filter bar, as query parameters (empty values mean no filter).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordingQuery {
    /// Username of the terminal's owner, or `me`. An unknown name matches nothing.
    pub user: Option<String>,
    /// Server name.
    pub server: Option<String>,
    /// Work session id (a UUID).
    pub work_session: Option<String>,
    /// Started at or after (RFC 3339).
    pub from: Option<String>,
    /// Started before (RFC 3339).
    pub to: Option<String>,
    /// Text typed or shown in the terminal (case-insensitive substring, at most 200 characters),
    /// live terminals included.
    pub q: Option<String>,
    /// At most 500, default 50.
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Recordings, newest first.
#[utoipa::path(get, path = "/api/recordings", tag = "websh", params(RecordingQuery),
    responses((status = 200, body = Page<Recording>), (status = 400, body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope)))]
pub async fn list_recordings(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<RecordingQuery>,
) -> ApiResult<Json<Page<Recording>>> {
    let from = parse_time("from", q.from)?;
    let to = parse_time("to", q.to)?;
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(ApiError::validation("to", "must not be before from"));
        }
    }
    let work_session = non_empty(q.work_session)
        .map(|id| {
            id.parse::<WorkSessionId>()
                .map_err(|_| ApiError::validation("work_session", "a work session id (a UUID)"))
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
    let mut filter = RecordingFilter {
        visible_to: (!auth.role.is_staff_or_above()).then_some(auth.id),
        server: non_empty(q.server),
        work_session,
        from,
        to,
        q: text,
        cursor: q.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: page_limit(q.limit),
        ..RecordingFilter::default()
    };
    match non_empty(q.user).as_deref() {
        None | Some("all") => {}
        Some("me") => filter.owner = Some(auth.id),
        Some(name) => match users::by_username(&state.db, state.workspace, name).await? {
            Some(row) => filter.owner = Some(row.user_id()?),
            // Nobody by that name has recordings: the same answer whether or not they exist.
            None => {
                return Ok(Json(Page {
                    items: Vec::new(),
                    total: 0,
                    next_cursor: None,
                }))
            }
        },
    }
    let (items, total, next) = recordings::list(&state, &filter).await?;
    Ok(Json(Page {
        items,
        total,
        next_cursor: next.as_ref().map(encode_cursor),
    }))
}

/// One recording with its context (the player's heading): the owner's, or anyone's for staff;
/// 404 for another member's, as for the recording itself.
#[utoipa::path(get, path = "/api/recordings/{id}", tag = "websh",
    params(("id" = String, Path, description = "terminal id")),
    responses((status = 200, body = Recording), (status = 404, body = ErrorEnvelope)))]
pub async fn get_recording(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Recording>> {
    let filter = RecordingFilter {
        visible_to: (!auth.role.is_staff_or_above()).then_some(auth.id),
        id: Some(id),
        limit: 1,
        ..RecordingFilter::default()
    };
    let (items, _, _) = recordings::list(&state, &filter).await?;
    items
        .into_iter()
        .next()
        .map(Json)
        .ok_or_else(|| ApiError::not_found("recording"))
}
