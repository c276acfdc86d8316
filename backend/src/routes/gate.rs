//! The gate as the server applies it: pick the caller's work session, run the pure decision,
//! audit a denial. `POST /api/gate/check` exposes the same decision as a pre-flight.

use crate::core::audit::{self, DENIED};
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, AuthUser};
use crate::store::work_sessions;
use crate::time::now;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use gatehouse_shared::api::{GateCheckAllowed, GateCheckRequest};
use gatehouse_shared::gate::{self, Operation};
use gatehouse_shared::{ErrorEnvelope, WorkSession, WorkSessionId};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/gate/check", post(check))
}

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

/// The run-as name that goes into the store, the audit and the gate: an explicit user, else the
/// agent's own (which is root on a privileged agent, so that needs `sudo` too).
pub fn effective_run_as(requested: Option<&str>, agent_is_root: bool) -> Option<String> {
    match requested.map(str::trim).filter(|u| !u.is_empty()) {
        Some(user) => Some(user.to_owned()),
        None if agent_is_root => Some("root".to_owned()),
        None => None,
    }
}

/// Runs the gate for `op`; returns the session that allows it (none for API tokens).
/// Every denial is audited before it is returned.
pub async fn authorize(
    state: &AppState,
    auth: &AuthUser,
    headers: &HeaderMap,
    op: &Operation<'_>,
    preflight: bool,
) -> ApiResult<Option<WorkSession>> {
    let selected = select(state, auth, headers).await?;
    decide(state, auth, selected.as_ref(), op, preflight).await?;
    Ok(selected)
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

/// The gate for one operation with an already selected session; audits a denial.
pub async fn decide(
    state: &AppState,
    auth: &AuthUser,
    selected: Option<&WorkSession>,
    op: &Operation<'_>,
    preflight: bool,
) -> ApiResult<()> {
    // Token ACLs arrive with their own issue; until then tokens are denied by default.
    let token_allows = false;
    let Err(denial) = gate::check(op, &auth.principal(), selected, token_allows, now()) else {
        return Ok(());
    };
    let mut event = audit::event("gate.denied", DENIED)
        .actor(&auth.username)
        .server(op.server)
        .details(serde_json::json!({
            "error_code": denial.code,
            "scope": op.scope,
            "as_root": op.as_root,
            "reason": denial.reason,
            "preflight": preflight,
        }));
    // Only the caller's own session gets the denial on its timeline.
    if let Some(session) = selected.filter(|s| s.assignee.id == auth.id) {
        event = event
            .work_session(session.id)
            .target(session.id.to_string());
    }
    audit::record_event(state, event).await?;
    Err(denial.into())
}

/// Pre-flight: would this scope on this server be allowed right now?
#[utoipa::path(post, path = "/api/gate/check", tag = "gate", request_body = GateCheckRequest,
    responses((status = 200, body = GateCheckAllowed), (status = 403, body = ErrorEnvelope)))]
pub async fn check(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiJson(req): ApiJson<GateCheckRequest>,
) -> ApiResult<Json<GateCheckAllowed>> {
    let op = Operation {
        scope: req.scope,
        server: &req.server,
        as_root: gate::runs_as_root(req.user.as_deref()),
    };
    let session = authorize(&state, &auth, &headers, &op, true).await?;
    Ok(Json(GateCheckAllowed {
        ok: true,
        work_session: session,
    }))
}
