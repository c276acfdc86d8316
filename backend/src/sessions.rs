//! The work-session service: visibility, and every state change as lifecycle + store + audit.
//!
//! Handlers and the scheduler both go through [`transition`], so each change is checked by the
//! pure lifecycle, written only if nobody changed the row meanwhile, and audited in the same
//! transaction.

use crate::error::{ApiError, ApiResult};
use crate::extract::AuthUser;
use crate::state::AppState;
use crate::store::audit::{append, NewEvent};
use crate::store::work_sessions;
use crate::time::now;
use gatehouse_shared::lifecycle::{apply, Action, Actor};
use gatehouse_shared::{WorkSession, WorkSessionId};

/// Staff and superusers see every session; members only those they requested or are assigned.
pub fn is_visible(session: &WorkSession, auth: &AuthUser) -> bool {
    auth.role.is_staff_or_above()
        || session.requested_by.id == auth.id
        || session.assignee.id == auth.id
}

/// The session if the caller may see it; otherwise 404, never 403 (no existence oracle).
pub async fn load_visible(
    state: &AppState,
    auth: &AuthUser,
    id: WorkSessionId,
) -> ApiResult<WorkSession> {
    work_sessions::get(&state.db, state.workspace, id)
        .await?
        .filter(|s| is_visible(s, auth))
        .ok_or_else(|| ApiError::not_found("work session"))
}

/// The audit event describing a transition.
pub fn transition_event(
    actor: &Actor,
    action: &Action,
    before: &WorkSession,
    after: &WorkSession,
) -> NewEvent {
    let actor_name = match actor {
        Actor::User { user, .. } => user.username.clone(),
        Actor::System => "system".to_owned(),
    };
    crate::audit::event(
        &format!("work_session.{}", action.event_name()),
        crate::audit::SUCCESS,
    )
    .actor(actor_name)
    .target(after.id.to_string())
    .work_session(after.id)
    .details(serde_json::json!({
        "from": before.status,
        "to": after.status,
        "purpose": after.purpose,
        "scopes": after.scopes,
        "servers": after.servers.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        "adjustments": after.adjustments,
        "reason": after.decision_reason,
        "expires_at": after.expires_at,
    }))
}

/// Applies `action` to the session as stored and persists the result with its audit event.
/// The row is read inside the write transaction, so the change is computed from exactly the
/// state it replaces (a racing extend and expiry cannot both win on stale data).
pub async fn transition(
    state: &AppState,
    id: WorkSessionId,
    actor: &Actor,
    action: &Action,
) -> ApiResult<WorkSession> {
    let policy = state.policy().await?;
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let before = work_sessions::get_on(&mut tx, state.workspace, id)
        .await?
        .ok_or_else(|| ApiError::not_found("work session"))?;
    let after = apply(&before, actor, action, now(), &policy)?;
    if !work_sessions::update(&mut tx, state.workspace, &after, before.status).await? {
        return Err(ApiError::conflict(
            "the work session changed meanwhile; reload and try again",
        ));
    }
    append(
        &mut tx,
        state.workspace,
        transition_event(actor, action, &before, &after),
        now(),
    )
    .await?;
    tx.commit().await?;
    state.session_changed(after.id, after.status);
    Ok(after)
}
