//! Oversight: `GET /api/websh/live` lists the live terminals (all of them for staff and
//! superusers, one's own for members), with who is in each and how many links are open.

use crate::core::state::AppState;
use crate::error::ApiResult;
use crate::extract::AuthUser;
use crate::store::shares;
use crate::time::now;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use gatehouse_shared::api::Page;
use gatehouse_shared::share::LiveTerminal;
use gatehouse_shared::UserRef;
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/websh/live", get(live_terminals))
}

/// The live terminals the caller may oversee, oldest first.
#[utoipa::path(get, path = "/api/websh/live", tag = "websh",
    responses((status = 200, body = Page<LiveTerminal>)))]
pub async fn live_terminals(
    State(state): State<AppState>,
    auth: AuthUser,
) -> ApiResult<Json<Page<LiveTerminal>>> {
    let shares: HashMap<String, i64> = shares::active_counts(&state.db, state.workspace, now())
        .await?
        .into_iter()
        .collect();
    let mut items: Vec<LiveTerminal> = state
        .hub
        .all_terminals()
        .into_iter()
        .filter(|t| t.is_live())
        .filter(|t| auth.role.is_staff_or_above() || t.owner == auth.id)
        .map(|t| LiveTerminal {
            id: t.id.0,
            owner: UserRef {
                id: t.owner,
                username: t.owner_name.clone(),
            },
            server: t.server_name.clone(),
            run_as: t.run_as.clone(),
            work_session: t.work_session,
            started_at: t.started_at,
            participants: t.participants().1,
            active_shares: shares
                .get(&t.id.0.to_string())
                .map_or(0, |n| u32::try_from(*n).unwrap_or(u32::MAX)),
        })
        .collect();
    items.sort_by_key(|t| (t.started_at, t.id));
    Ok(Json(Page {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}
