//! The HTTP side of the gate: which work session a request uses (`X-Work-Session`, else the
//! sign-in's active one) and the gate pass for an operation, with the denial as the envelope.

use crate::core::elevation::{self, Ask, Facts, Refusal};
use crate::core::gate::{self, Asker, DenialNote, GatePass};
use crate::core::gateway::hub::AgentLink;
use crate::core::runas::{Person, RunAs};
use crate::core::state::AppState;
use crate::core::stepup::StepUp;
use crate::error::{ApiError, ApiResult};
use crate::extract::AuthUser;
use crate::store::servers::{self, ServerRow};
use crate::store::work_sessions;
use axum::http::HeaderMap;
use gatehouse_shared::gate::{GateDenial, Operation};
use gatehouse_shared::{ErrorCode, ErrorEnvelope, WorkSession, WorkSessionId};
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

/// The work session a gated call uses, loaded once per request (shared by every pass it gives).
pub async fn select(
    state: &AppState,
    auth: &AuthUser,
    headers: &HeaderMap,
) -> ApiResult<Option<Arc<WorkSession>>> {
    Ok(match selected_session(auth, headers)? {
        Some(id) => work_sessions::get(&state.db, state.workspace, id)
            .await?
            .map(Arc::new),
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
    session: Option<Arc<WorkSession>>,
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

/// A server as a gated call finds it: its entry and its agent's live link, either of which may
/// be missing.
pub type Target = (Option<ServerRow>, Option<Arc<AgentLink>>);

/// The server entry named `name` and its agent's live link.
pub async fn target(state: &AppState, name: &str) -> ApiResult<Target> {
    let row = servers::by_name(&state.db, state.workspace, name).await?;
    let link = state.hub.link_of(row.as_ref());
    Ok((row, link))
}

/// [`target`] for each of `names`, in their order, read in one query.
pub async fn targets(state: &AppState, names: &[String]) -> ApiResult<Vec<Target>> {
    let mut rows = servers::by_names(&state.db, state.workspace, names).await?;
    Ok(names
        .iter()
        .map(|name| {
            let row = rows.remove(name);
            let link = state.hub.link_of(row.as_ref());
            (row, link)
        })
        .collect())
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

// Elevation: what an operation as root takes beyond the gate (`core::elevation`), asked by the
// opening of a terminal, each exec and each file operation once the gate has passed them.

/// What [`elevate`] decided.
#[derive(Debug)]
pub enum Elevated {
    Allowed,
    /// Refused only because the command is outside the session's declared root commands, and
    /// the caller may ask for this one command to be approved (not audited as a denial: the
    /// request that follows is audited instead).
    NeedsApproval(Box<GateDenial>),
}

/// Runs the elevation rules for `ask` as `op`, allowed by `pass`: allowed, waiting for an
/// approval (only when `may_ask_approval`), or the envelope of an audited refusal.
pub async fn elevate(
    state: &AppState,
    auth: &AuthUser,
    pass: &GatePass,
    op: &Operation<'_>,
    ask: Ask<'_>,
    command: Option<&str>,
    may_ask_approval: bool,
) -> ApiResult<Elevated> {
    let facts = Facts {
        asker: asker(auth),
        mfa_verified_at: auth.login.as_ref().and_then(|l| l.mfa_verified_at),
        session: pass.session(),
        op,
    };
    let refusal = match elevation::check(state, facts, ask).await? {
        Ok(()) => return Ok(Elevated::Allowed),
        Err(refusal) => refusal,
    };
    let refusal = match refusal {
        Refusal::NotDeclared(denial) if may_ask_approval => {
            return Ok(Elevated::NeedsApproval(denial))
        }
        refusal => refusal,
    };
    elevation::audit_refusal(state, facts, &refusal, command).await;
    Err(match refusal {
        Refusal::StepUp(StepUp::VerifyRequired) => {
            let mut envelope = ErrorEnvelope::new(
                ErrorCode::MfaStepUpRequired,
                "running as root needs a current code from your authenticator app: confirm it, \
                 then try again",
            );
            envelope.next_actions = vec![
                gatehouse_shared::next_action::verify_mfa(),
                "POST /api/auth/mfa/verify".to_owned(),
            ];
            ApiError(Box::new(envelope))
        }
        Refusal::StepUp(step) => step.into(),
        Refusal::NotDeclared(denial) => denial.into(),
    })
}
