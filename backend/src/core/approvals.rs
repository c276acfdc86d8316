//! The approvals queue: new work sessions, extensions past an approved window and single root
//! commands (`core::command_approvals`), decided by a superuser who is not the requester. A non-superuser's extension is granted at once only
//! within the workspace's self-extension allowance (`self_extend_secs`, counted over the
//! session's life); beyond it, it waits here and the session keeps its expiry meanwhile.

use crate::core::audit;
use crate::core::command_approvals;
use crate::core::sessions::{transition, transition_details, transition_event, transition_on};
use crate::core::state::AppState;
use crate::core::CoreError;
use crate::store::approvals::{self, Extension, ListFilter};
use crate::store::{work_sessions, StoreError, WriteTx};
use crate::time::now;
use gatehouse_shared::approval::{
    extension_amount_secs, Approval, ApprovalKind, ApprovalStatus, ApprovalSubject, PendingApproval,
};
use gatehouse_shared::audit::{AuditAction, ExtensionDetails, TransitionDetails};
use gatehouse_shared::lifecycle::{apply, Action, Actor, ExtendBy, Policy};
use gatehouse_shared::work_session::ExtendWorkSession;
use gatehouse_shared::{Role, Status, UserId, WorkSession, WorkSessionId};
use uuid::Uuid;

/// What an extension did.
#[derive(Debug)]
pub enum Extended {
    /// Applied now (a superuser, or within the allowance).
    Now(Box<WorkSession>),
    /// Waiting for an approver.
    Pending(PendingApproval),
}

fn extend_by(ask: &ExtendWorkSession) -> Result<ExtendBy, CoreError> {
    match (ask.duration_secs, ask.expires_at) {
        (Some(secs), None) => Ok(ExtendBy::Seconds(secs)),
        (None, Some(until)) => Ok(ExtendBy::Until(until)),
        _ => Err(CoreError::invalid(
            "duration_secs",
            "give either duration_secs or expires_at",
        )),
    }
}

/// Extends a session as `actor`: directly for a superuser, else granted within the allowance or
/// queued. Either way the lifecycle first decides whether the extension is allowed at all, so
/// an impossible request (too long, not yours, session over) is refused, never queued.
pub async fn extend(
    state: &AppState,
    actor: &Actor,
    id: WorkSessionId,
    ask: &ExtendWorkSession,
) -> Result<Extended, CoreError> {
    let by = extend_by(ask)?;
    let action = Action::Extend(by);
    if actor.is_superuser() {
        return Ok(Extended::Now(Box::new(
            transition(state, id, actor, &action).await?,
        )));
    }
    let Some((user, _)) = actor.user() else {
        return Err(CoreError::Forbidden(
            "only a person extends a session".into(),
        ));
    };
    let settings = crate::store::workspace_settings(&state.db, state.workspace).await?;
    let policy = Policy {
        max_duration_secs: settings.max_session_secs,
    };
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    let before = work_sessions::get_on(&mut tx, state.workspace, id)
        .await?
        .ok_or(CoreError::NotFound("work session"))?;
    // The same checks the extension itself will pass, now and again when it is decided.
    apply(&before, actor, &action, tx.at(), &policy)?;
    let amount = extension_amount_secs(ask, before.expires_at);
    let used = approvals::self_granted_secs(&mut tx, state.workspace, id).await?;
    if used + amount <= settings.self_extend_secs {
        let approval =
            approvals::insert(&mut tx, state.workspace, id, user.id, ask, amount, true).await?;
        let (before, after) = transition_on(&mut tx, state, id, actor, &action, &policy).await?;
        let mut event = transition_event(actor, &action, &before, &after);
        event = event.details(granted_details(&before, &after, approval));
        tx.commit(event).await?;
        state.session_changed(id, after.status);
        return Ok(Extended::Now(Box::new(after)));
    }
    let approval = approvals::insert(&mut tx, state.workspace, id, user.id, ask, amount, false)
        .await
        .map_err(|e| match e {
            StoreError::Duplicate => CoreError::Conflict(
                "an extension of this session is already waiting for an approver".into(),
            ),
            other => other.into(),
        })?;
    tx.commit(
        audit::event(AuditAction::WorkSessionExtensionRequested, audit::SUCCESS)
            .actor(user.username.clone())
            .target(id.to_string())
            .work_session(id)
            .details(audit::typed(&ExtensionDetails {
                approval,
                duration_secs: ask.duration_secs,
                requested_expires_at: ask.expires_at,
                current_expires_at: before.expires_at,
                reason: None,
            })),
    )
    .await?;
    state.session_changed(id, before.status);
    let message = if settings.self_extend_secs > 0 {
        "this goes past what you may extend by yourself: an approver decides; the session keeps \
         its current expiry until then"
    } else {
        "extensions are decided by an approver; the session keeps its current expiry until then"
    };
    Ok(Extended::Pending(PendingApproval::new(
        approval,
        ApprovalKind::Extension,
        message,
    )))
}

/// The transition's own details plus the request that granted it.
fn granted_details(before: &WorkSession, after: &WorkSession, approval: Uuid) -> serde_json::Value {
    audit::typed(&TransitionDetails {
        approval: Some(approval),
        ..transition_details(before, after)
    })
}

pub(crate) fn subject(session: &WorkSession) -> ApprovalSubject {
    ApprovalSubject {
        id: session.id,
        purpose: session.purpose.clone(),
        status: session.status,
        assignee: session.assignee.clone(),
        expires_at: session.expires_at,
        duration_secs: session.duration_secs,
    }
}

fn of_session(session: &WorkSession) -> Approval {
    Approval {
        id: session.id.0,
        kind: ApprovalKind::WorkSession,
        status: ApprovalStatus::of_session(session.status),
        work_session: subject(session),
        requested_by: session.requested_by.clone(),
        requested_at: session.created_at,
        extension: None,
        command: None,
        decided_by: session.approved_by.clone(),
        decided_at: session.decided_at,
        reason: session.decision_reason.clone(),
    }
}

fn of_extension(ext: Extension, session: &WorkSession) -> Approval {
    Approval {
        id: ext.id,
        kind: ApprovalKind::Extension,
        status: ext.status,
        work_session: subject(session),
        requested_by: ext.requested_by,
        requested_at: ext.created_at,
        extension: Some(ext.ask),
        command: None,
        decided_by: ext.decided_by,
        decided_at: ext.decided_at,
        reason: ext.reason,
    }
}

/// Who is looking at the queue.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub id: UserId,
    pub role: Role,
}

impl Viewer {
    /// Superusers decide, so they see every request; everyone else sees their own.
    fn sees_all(self) -> bool {
        self.role == Role::Superuser
    }
}

/// What the queue lists.
#[derive(Debug, Clone)]
pub struct Query {
    pub statuses: Vec<ApprovalStatus>,
    pub kind: Option<ApprovalKind>,
    pub work_session: Option<WorkSessionId>,
    pub limit: i64,
}

fn session_statuses(statuses: &[ApprovalStatus]) -> Vec<Status> {
    let mut out = Vec::new();
    for status in statuses {
        match status {
            ApprovalStatus::Pending => out.push(Status::Pending),
            ApprovalStatus::Approved => out.extend([
                Status::Approved,
                Status::Active,
                Status::Completed,
                Status::Expired,
                Status::Revoked,
            ]),
            ApprovalStatus::Rejected => out.push(Status::Rejected),
            ApprovalStatus::Cancelled => out.push(Status::Cancelled),
            // A work-session request never lapses: it stays pending until someone decides.
            ApprovalStatus::Lapsed | ApprovalStatus::Expired => {}
        }
    }
    out
}

/// The queue, newest request first.
pub async fn list(state: &AppState, viewer: Viewer, q: &Query) -> Result<Vec<Approval>, CoreError> {
    let mut items = Vec::new();
    if matches!(q.kind, None | Some(ApprovalKind::WorkSession)) {
        let statuses = session_statuses(&q.statuses);
        if !statuses.is_empty() && q.work_session.is_none() {
            let filter = work_sessions::ListFilter {
                statuses: Some(statuses),
                involving: work_sessions::Involving::Anyone,
                visible_to: (!viewer.sees_all()).then_some(viewer.id),
                server: None,
                scope: None,
                q: None,
                from: None,
                to: None,
                cursor: None,
                limit: q.limit,
            };
            let (sessions, _, _) = work_sessions::list(&state.db, state.workspace, &filter).await?;
            items.extend(
                sessions
                    .iter()
                    // Only requests someone had to decide: a superuser's own are approved as made.
                    .filter(|s| {
                        s.status == Status::Pending
                            || s.approved_by.as_ref() != Some(&s.requested_by)
                    })
                    .map(of_session),
            );
        } else if let Some(id) = q.work_session {
            let session = work_sessions::get(&state.db, state.workspace, id).await?;
            if let Some(session) = session.filter(|s| {
                viewer.sees_all() || s.is_requested_by(viewer.id) || s.assignee.id == viewer.id
            }) {
                let approval = of_session(&session);
                if q.statuses.contains(&approval.status) {
                    items.push(approval);
                }
            }
        }
    }
    if matches!(q.kind, None | Some(ApprovalKind::Command)) {
        items.extend(
            command_approvals::list(state, viewer, &q.statuses, q.work_session, q.limit).await?,
        );
    }
    if matches!(q.kind, None | Some(ApprovalKind::Extension)) {
        let filter = ListFilter {
            statuses: Some(q.statuses.clone()),
            requested_by: (!viewer.sees_all()).then_some(viewer.id),
            work_session: q.work_session,
            exclude_self_granted: true,
            limit: q.limit,
        };
        for ext in approvals::list(&state.db, state.workspace, &filter).await? {
            if let Some(session) =
                work_sessions::get(&state.db, state.workspace, ext.work_session).await?
            {
                items.push(of_extension(ext, &session));
            }
        }
    }
    items.sort_by_key(|a| std::cmp::Reverse(a.requested_at));
    items.truncate(q.limit.max(0) as usize);
    Ok(items)
}

/// One approval, if `viewer` may see it.
pub async fn get(state: &AppState, viewer: Viewer, id: Uuid) -> Result<Approval, CoreError> {
    if let Some(command) = command_approvals::get(state, viewer, id).await? {
        return Ok(command);
    }
    if let Some(ext) = approvals::get(&state.db, state.workspace, id).await? {
        if viewer.sees_all() || ext.requested_by.id == viewer.id {
            let session = work_sessions::get(&state.db, state.workspace, ext.work_session)
                .await?
                .ok_or(CoreError::NotFound("approval"))?;
            return Ok(of_extension(ext, &session));
        }
        return Err(CoreError::NotFound("approval"));
    }
    let session = work_sessions::get(&state.db, state.workspace, WorkSessionId(id))
        .await?
        .filter(|s| viewer.sees_all() || s.is_requested_by(viewer.id) || s.assignee.id == viewer.id)
        .ok_or(CoreError::NotFound("approval"))?;
    Ok(of_session(&session))
}

/// Decides an approval as `actor` (a superuser; the route checks the role): a work-session
/// request goes through its own transition; an extension is applied, or refused, in one write
/// with its event. Nobody decides their own request.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    approve: bool,
    reason: Option<String>,
) -> Result<Approval, CoreError> {
    if let Some(command) =
        command_approvals::decide(state, actor, id, approve, reason.clone()).await?
    {
        return Ok(command);
    }
    let Some((user, _)) = actor.user() else {
        return Err(CoreError::Forbidden("only a person decides".into()));
    };
    let policy = state.policy().await?;
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    let Some(ext) = approvals::get_on(&mut tx, state.workspace, id).await? else {
        drop(tx);
        let action = if approve {
            Action::Approve {
                scopes: None,
                servers: None,
                sudo_commands: None,
                tunnel_ports: None,
                reason,
            }
        } else {
            Action::Reject { reason }
        };
        let session = transition(state, WorkSessionId(id), actor, &action).await?;
        return Ok(of_session(&session));
    };
    if ext.status != ApprovalStatus::Pending {
        return Err(CoreError::Conflict(format!(
            "this request was already decided: {}",
            ext.status.as_str()
        )));
    }
    if ext.requested_by.id == user.id {
        return Err(CoreError::Forbidden(
            "you cannot decide your own request; another superuser must".into(),
        ));
    }
    let status = if approve {
        ApprovalStatus::Approved
    } else {
        ApprovalStatus::Rejected
    };
    approvals::decide(
        &mut tx,
        state.workspace,
        id,
        status,
        Some(user.id),
        reason.as_deref(),
    )
    .await?;
    let session = if approve {
        let action = Action::Extend(extend_by(&ext.ask)?);
        let (before, after) =
            transition_on(&mut tx, state, ext.work_session, actor, &action, &policy).await?;
        let event = transition_event(actor, &action, &before, &after)
            .details(granted_details(&before, &after, id));
        tx.commit(event).await?;
        after
    } else {
        let session = work_sessions::get_on(&mut tx, state.workspace, ext.work_session)
            .await?
            .ok_or(CoreError::NotFound("work session"))?;
        tx.commit(
            audit::event(AuditAction::WorkSessionExtensionRejected, audit::SUCCESS)
                .actor(user.username.clone())
                .target(session.id.to_string())
                .work_session(session.id)
                .details(audit::typed(&ExtensionDetails {
                    approval: id,
                    duration_secs: ext.ask.duration_secs,
                    requested_expires_at: ext.ask.expires_at,
                    current_expires_at: session.expires_at,
                    reason: reason.clone(),
                })),
        )
        .await?;
        session
    };
    state.session_changed(session.id, session.status);
    let decided = approvals::get(&state.db, state.workspace, id)
        .await?
        .ok_or(CoreError::NotFound("approval"))?;
    Ok(of_extension(decided, &session))
}
