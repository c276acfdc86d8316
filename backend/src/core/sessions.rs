//! The work-session service: visibility, and every state change as lifecycle + store + audit.
//!
//! Handlers and the scheduler both go through [`transition`], so each change is checked by the
//! pure lifecycle, written only if nobody changed the row meanwhile, and audited in the same
//! transaction.

use crate::core::audit;
use crate::core::state::AppState;
use crate::core::CoreError;
use crate::store::audit::NewEvent;
use crate::store::{approvals, work_sessions, WriteTx};
use crate::time::now;
use gatehouse_shared::audit::TransitionDetails;
use gatehouse_shared::lifecycle::{apply, Action, Actor, Policy};
use gatehouse_shared::{WorkSession, WorkSessionId};

/// What a transition's audit event says: where the session went, and the session as it is after.
pub fn transition_details(before: &WorkSession, after: &WorkSession) -> TransitionDetails {
    TransitionDetails {
        from: before.status,
        to: after.status,
        purpose: after.purpose.clone(),
        scopes: after.scopes.clone(),
        servers: after.servers.iter().map(|s| s.name.clone()).collect(),
        adjustments: after.adjustments.clone(),
        reason: after.decision_reason.clone(),
        expires_at: after.expires_at,
        approval: None,
    }
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
    audit::event(action.audit_action(), audit::SUCCESS)
        .actor(actor_name)
        .target(after.id.to_string())
        .work_session(after.id)
        .details(audit::typed(&transition_details(before, after)))
}

/// Applies `action` to the session as stored and persists the result with its audit event.
/// The row is read inside the write transaction, so the change is computed from exactly the
/// state it replaces (a racing extend and expiry cannot both win on stale data).
pub async fn transition(
    state: &AppState,
    id: WorkSessionId,
    actor: &Actor,
    action: &Action,
) -> Result<WorkSession, CoreError> {
    let policy = state.policy().await?;
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    let (before, after) = transition_on(&mut tx, state, id, actor, action, &policy).await?;
    tx.commit(transition_event(actor, action, &before, &after))
        .await?;
    state.session_changed(after.id, after.status);
    Ok(after)
}

/// The body of [`transition`] inside a caller's write, for changes that record more than the
/// transition (an approved extension request); returns the session before and after. A session
/// that ends here takes its waiting extension requests with it.
pub async fn transition_on(
    tx: &mut WriteTx,
    state: &AppState,
    id: WorkSessionId,
    actor: &Actor,
    action: &Action,
    policy: &Policy,
) -> Result<(WorkSession, WorkSession), CoreError> {
    let before = work_sessions::get_on(tx, state.workspace, id)
        .await?
        .ok_or(CoreError::NotFound("work session"))?;
    let after = apply(&before, actor, action, tx.at(), policy)?;
    if !work_sessions::update(tx, state.workspace, &after, before.status).await? {
        return Err(CoreError::Conflict(
            "the work session changed meanwhile; reload and try again".into(),
        ));
    }
    if after.status.is_terminal() {
        approvals::lapse_for_session(tx, state.workspace, id).await?;
        crate::core::command_approvals::lapse_for_session(tx, id).await?;
    }
    Ok((before, after))
}
