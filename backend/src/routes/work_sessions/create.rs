//! `POST /api/work-sessions`: declare intent, scopes, servers and a window.

use crate::core::access::{allowed_patterns, is_allowed};
use crate::core::sessions::transition_event;
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, AuthUser};
use crate::store::{servers, users, work_sessions, WriteTx};
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::lifecycle::{apply, validate_request, Action};
use gatehouse_shared::work_session::{CreateWorkSession, ServerRef};
use gatehouse_shared::{ErrorEnvelope, Role, Scope, Status, WorkSession, WorkSessionId};

/// Request a work session. A superuser's own request is approved at once.
#[utoipa::path(post, path = "/api/work-sessions", tag = "work-sessions", request_body = CreateWorkSession,
    responses((status = 201, body = WorkSession), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope)))]
pub async fn create_work_session(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(mut req): ApiJson<CreateWorkSession>,
) -> ApiResult<(StatusCode, Json<WorkSession>)> {
    let now = now();
    let policy = state.policy().await?;
    validate_request(&req, now, &policy).map_err(ApiError::fields)?;
    req.scopes.sort();
    req.scopes.dedup();
    req.servers.sort();
    req.servers.dedup();
    // Root commands imply `sudo`; each is kept as written, once, in the order given.
    let mut sudo_commands: Vec<String> = Vec::with_capacity(req.sudo_commands.len());
    for pattern in &req.sudo_commands {
        let pattern = pattern.trim().to_owned();
        if !sudo_commands.contains(&pattern) {
            sudo_commands.push(pattern);
        }
    }
    if !sudo_commands.is_empty() && !req.scopes.contains(&Scope::Sudo) {
        req.scopes.push(Scope::Sudo);
        req.scopes.sort();
    }
    req.tunnel_ports.sort_unstable();
    req.tunnel_ports.dedup();

    let assignee = match req.assignee.as_deref() {
        None => None,
        Some(name) if name == auth.username => None,
        Some(name) => {
            if auth.role < Role::Staff {
                return Err(ApiError::forbidden(
                    "members request work sessions for themselves only",
                ));
            }
            Some(
                users::by_username(&state.db, state.workspace, name)
                    .await?
                    .ok_or_else(|| ApiError::validation("assignee", format!("no user {name}")))?,
            )
        }
    };
    let (assignee_ref, assignee_role) = match &assignee {
        Some(row) => (row.to_ref()?, row.role()?),
        None => (auth.user_ref(), auth.role),
    };

    // Members may only ask for servers granted to them, directly or through a group.
    let allowed = allowed_patterns(&state, assignee_ref.id, assignee_role).await?;
    let mut refs = Vec::with_capacity(req.servers.len());
    for name in &req.servers {
        // Grants first: a member learns nothing about servers outside them, not even existence.
        if !is_allowed(&allowed, name) {
            return Err(ApiError::forbidden(format!(
                "server {name} is not granted to {}",
                assignee_ref.username
            )));
        }
        let row = servers::by_name(&state.db, state.workspace, name)
            .await?
            .ok_or_else(|| ApiError::validation("servers", format!("no server {name}")))?;
        refs.push(ServerRef {
            id: row.server_id()?,
            name: row.name,
        });
    }

    let pending = WorkSession {
        id: WorkSessionId::new(),
        purpose: req.purpose.trim().to_owned(),
        status: Status::Pending,
        scopes: req.scopes.clone(),
        servers: refs,
        sudo_commands,
        tunnel_ports: req.tunnel_ports.clone(),
        requested_by: auth.user_ref(),
        assignee: assignee_ref,
        approved_by: None,
        decision_reason: None,
        adjustments: None,
        starts_at: req.starts_at.filter(|s| *s > now),
        duration_secs: req.duration_secs,
        expires_at: req.expires_at,
        created_at: now,
        decided_at: None,
        activated_at: None,
        ended_at: None,
    };
    let actor = auth.actor();
    let mut tx = WriteTx::begin(&state.db, state.workspace, now).await?;
    work_sessions::insert(&mut tx, state.workspace, &pending).await?;
    let requested = crate::core::audit::event(
        AuditAction::WorkSessionRequested,
        crate::core::audit::SUCCESS,
    )
    .actor(&auth.username)
    .target(pending.id.to_string())
    .work_session(pending.id)
    .details({
        let mut details = serde_json::json!({
            "purpose": pending.purpose,
            "scopes": pending.scopes,
            "servers": req.servers,
            "assignee": pending.assignee.username,
            "starts_at": pending.starts_at,
            "duration_secs": pending.duration_secs,
            "expires_at": pending.expires_at,
        });
        if !pending.sudo_commands.is_empty() {
            details["sudo_commands"] = serde_json::json!(pending.sudo_commands);
        }
        if !pending.tunnel_ports.is_empty() {
            details["tunnel_ports"] = serde_json::json!(pending.tunnel_ports);
        }
        details
    });
    let mut session = pending.clone();
    // A superuser's own request is approved at once, in the same transaction.
    let last = if auth.role == Role::Superuser {
        tx.audit(requested).await?;
        let approved = apply(&pending, &actor, &Action::AutoApprove, now, &policy)?;
        work_sessions::update(&mut tx, state.workspace, &approved, Status::Pending).await?;
        let event = transition_event(&actor, &Action::AutoApprove, &pending, &approved);
        session = approved;
        event
    } else {
        requested
    };
    tx.commit(last).await?;
    state.session_changed(session.id, session.status);
    Ok((StatusCode::CREATED, Json(session)))
}
