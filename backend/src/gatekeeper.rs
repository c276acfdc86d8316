//! The HTTP side of the gate: which work session a request uses (`X-Work-Session`, else the
//! sign-in's active one) and the gate pass for an operation, with the denial as the envelope.

use crate::core::gate::{self, Asker, DenialNote, GatePass};
use crate::core::gateway::hub::AgentLink;
use crate::core::runas::{Person, RunAs};
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::AuthUser;
use crate::store::servers::{self, ServerRow};
use crate::store::work_sessions;
use axum::http::HeaderMap;
use gatehouse_shared::gate::Operation;
use gatehouse_shared::{WorkSession, WorkSessionId};
use std::sync::Arc;

/// The header naming the work session a gated call uses.
pub const WORK_SESSION_HEADER: &str = "x-work-session";

/// Explicit `X-Work-Session` first, then the sign-in's active session.
pub fn selected_session(auth: &AuthUser, headers: &HeaderMap) -> ApiResult<Option<WorkSessionId>> {
    match headers.get(WORK_SESSION_HEADER) {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map(Some)
            .ok_or_else(|| ApiError::bad_request("X-Work-Session must be a work session id")),
        None => Ok(auth.login.as_ref().and_then(|l| l.active_work_session)),
    }
}

/// The work session a gated call uses, loaded once per request.
pub async fn select(
    state: &AppState,
    auth: &AuthUser,
    headers: &HeaderMap,
) -> ApiResult<Option<WorkSession>> {
    Ok(match selected_session(auth, headers)? {
        Some(id) => work_sessions::get(&state.db, state.workspace, id).await?,
        None => None,
    })
}

/// The caller as the gate sees it.
pub fn asker(auth: &AuthUser) -> Asker<'_> {
    Asker {
        principal: auth.principal(),
        actor: &auth.username,
        token: auth.token,
    }
}

/// The gate for `op` inside an already selected session: a pass, or the 403 envelope.
pub async fn pass_in(
    state: &AppState,
    auth: &AuthUser,
    session: Option<WorkSession>,
    op: &Operation<'_>,
    run_as: RunAs,
) -> ApiResult<GatePass> {
    Ok(gate::check(
        state,
        asker(auth),
        session,
        op,
        run_as,
        DenialNote::default(),
    )
    .await?)
}

/// Selects the request's session and runs the gate for `op`.
pub async fn pass(
    state: &AppState,
    auth: &AuthUser,
    headers: &HeaderMap,
    op: &Operation<'_>,
    run_as: RunAs,
) -> ApiResult<GatePass> {
    let session = select(state, auth, headers).await?;
    pass_in(state, auth, session, op, run_as).await
}

/// The server entry named `name` and its agent's live link, either of which may be missing.
pub async fn target(
    state: &AppState,
    name: &str,
) -> ApiResult<(Option<ServerRow>, Option<Arc<AgentLink>>)> {
    let row = servers::by_name(&state.db, state.workspace, name).await?;
    let link = row
        .as_ref()
        .and_then(|s| s.server_id().ok())
        .and_then(|id| state.hub.link(id));
    Ok((row, link))
}

/// Whom the caller runs as on `server` when they ask for `requested`, given its agent's link
/// (an offline server is treated as a root agent: the gate still decides, and the open fails
/// later with "not connected"). `person` is the caller as read once for the request.
pub fn run_as(
    person: &Person,
    server: &str,
    requested: Option<&str>,
    link: Option<&Arc<AgentLink>>,
) -> RunAs {
    let agent_is_root = link.is_none_or(|l| l.privileged);
    person.decide(server, requested, agent_is_root)
}

/// The caller as the run-as rule sees them.
pub async fn person(state: &AppState, auth: &AuthUser) -> ApiResult<Person> {
    Ok(Person::load(state, auth.id).await?)
}
