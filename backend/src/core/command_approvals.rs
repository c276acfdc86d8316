//! Single-command approvals: a root command outside its session's declared `sudo_commands`,
//! asked with `"request_approval": true`, waits in the approvals queue (kind `command`). A
//! superuser who is not the requester decides it once (one conditional update, so approving
//! twice runs it once); an approved command runs at once, exactly as asked, in the requester's
//! session and name through the gate and the agent link like any exec, and its output is the
//! requester's (`GET /api/exec/{job}`). Rejection, expiry (15 minutes by default, applied by
//! the scheduler) and the session ending first are final. The approval waives only the
//! declared-commands rule: the gate runs again when it runs, and the step-up MFA was proved
//! when it was asked.

use crate::core::approvals::{subject, Viewer};
use crate::core::audit::{self, typed, SUCCESS};
use crate::core::exec_results::{record_results, JobRecord};
use crate::core::gate::{Asker, DenialNote, Gate};
use crate::core::gateway::capture::{ExecRunState, RunEnd};
use crate::core::gateway::hub::{ExecIo, Program};
use crate::core::runas::Person;
use crate::core::state::AppState;
use crate::core::CoreError;
use crate::store::command_approvals::{self as store, CommandApproval, NewCommandApproval};
use crate::store::{exec, servers, work_sessions, StoreError, WriteTx};
use crate::time::now;
use gatehouse_shared::agent_link::ChannelId;
use gatehouse_shared::approval::{
    Approval, ApprovalKind, ApprovalStatus, CommandAsk, PendingApproval,
};
use gatehouse_shared::audit::{AuditAction, ExecStartedDetails};
use gatehouse_shared::gate::{AuthMethod, Principal};
use gatehouse_shared::lifecycle::Actor;
use gatehouse_shared::{Role, Scope, UserRef, WorkSession};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// How long a single command waits for a decision.
pub const DEFAULT_TTL_SECS: i64 = 15 * 60;

/// A command as asked, to be approved.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub servers: &'a [String],
    pub command: &'a str,
    pub argv: Option<&'a [String]>,
    pub run_as: Option<&'a str>,
    pub env: Option<&'a BTreeMap<String, String>>,
    pub timeout_secs: u64,
}

fn details(req: &CommandApproval) -> serde_json::Value {
    serde_json::json!({
        "approval": req.id,
        "command": req.command,
        "argv": req.argv,
        "servers": req.servers,
        "user": req.run_as,
        "requested_by": req.requested_by.username,
    })
}

/// Puts `ask` to an approver: stored and audited (on the session's timeline) in one write.
pub async fn request(
    state: &AppState,
    requester: &UserRef,
    session: &WorkSession,
    ask: Ask<'_>,
) -> Result<PendingApproval, CoreError> {
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    let expires_at = tx.at() + chrono::Duration::seconds(DEFAULT_TTL_SECS);
    let id = store::insert(
        &mut tx,
        state.workspace,
        &NewCommandApproval {
            work_session: session.id,
            requested_by: requester.id,
            servers: ask.servers,
            command: ask.command,
            argv: ask.argv,
            run_as: ask.run_as,
            env: ask.env,
            timeout_secs: ask.timeout_secs,
            expires_at,
        },
    )
    .await?;
    let stored = store::get_on(&mut tx, state.workspace, id)
        .await?
        .ok_or(CoreError::NotFound("approval"))?;
    let mut event = audit::event(AuditAction::CommandApprovalRequested, SUCCESS)
        .actor(&requester.username)
        .target(id.to_string())
        .work_session(session.id)
        .details(details(&stored));
    if let [server] = ask.servers {
        event = event.server(server);
    }
    tx.commit(event).await?;
    state.session_changed(session.id, session.status);
    let mut pending = PendingApproval::new(
        id,
        ApprovalKind::Command,
        "this root command is outside the work session's declared commands: a superuser \
         decides, and once approved it runs once, exactly as asked",
    );
    pending
        .next_actions
        .push(gatehouse_shared::next_action::wait_for_approval(id));
    Ok(pending)
}

/// The queue entry of a stored request.
fn to_approval(req: CommandApproval, session: &WorkSession) -> Approval {
    Approval {
        id: req.id,
        kind: ApprovalKind::Command,
        status: req.status,
        work_session: subject(session),
        requested_by: req.requested_by,
        requested_at: req.created_at,
        extension: None,
        command: Some(CommandAsk {
            servers: req.servers,
            command: req.command,
            argv: req.argv,
            user: req.run_as,
            expires_at: req.expires_at,
            exec_job: req.exec_job,
        }),
        decided_by: req.decided_by,
        decided_at: req.decided_at,
        reason: req.reason,
    }
}

async fn with_session(state: &AppState, req: CommandApproval) -> Result<Approval, CoreError> {
    let session = work_sessions::get(&state.db, state.workspace, req.work_session)
        .await?
        .ok_or(CoreError::NotFound("approval"))?;
    Ok(to_approval(req, &session))
}

/// The command requests a list shows: every one for a superuser, else the viewer's own.
pub async fn list(
    state: &AppState,
    viewer: Viewer,
    statuses: &[ApprovalStatus],
    work_session: Option<gatehouse_shared::WorkSessionId>,
    limit: i64,
) -> Result<Vec<Approval>, CoreError> {
    let filter = store::ListFilter {
        statuses: statuses.to_vec(),
        requested_by: (viewer.role != Role::Superuser).then_some(viewer.id),
        work_session,
        limit,
    };
    let mut items = Vec::new();
    for req in store::list(&state.db, state.workspace, &filter).await? {
        items.push(with_session(state, req).await?);
    }
    Ok(items)
}

/// One command request, if it is one and `viewer` may see it (`None`: not a command request).
pub async fn get(
    state: &AppState,
    viewer: Viewer,
    id: Uuid,
) -> Result<Option<Approval>, CoreError> {
    let Some(req) = store::get(&state.db, state.workspace, id).await? else {
        return Ok(None);
    };
    if viewer.role != Role::Superuser && req.requested_by.id != viewer.id {
        return Err(CoreError::NotFound("approval"));
    }
    Ok(Some(with_session(state, req).await?))
}

/// Decides a command request as `actor` (a superuser; the route checks the role); `None` when
/// `id` is not a command request. An approval runs the command before this returns (its runs
/// go on in the background; the answer names the job).
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    approve: bool,
    reason: Option<String>,
) -> Result<Option<Approval>, CoreError> {
    let Some((user, _)) = actor.user() else {
        return Err(CoreError::Forbidden("only a person decides".into()));
    };
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    let Some(req) = store::get_on(&mut tx, state.workspace, id).await? else {
        return Ok(None);
    };
    if req.status != ApprovalStatus::Pending {
        return Err(CoreError::Conflict(format!(
            "this request was already decided: {}",
            req.status.as_str()
        )));
    }
    if req.requested_by.id == user.id {
        return Err(CoreError::Forbidden(
            "you cannot decide your own request; another superuser must".into(),
        ));
    }
    if req.expires_at <= tx.at() {
        drop(tx);
        expire(state, &req, ApprovalStatus::Expired).await?;
        return Err(CoreError::Conflict(
            "this request expired before anyone decided; ask again".into(),
        ));
    }
    let (status, action) = if approve {
        (
            ApprovalStatus::Approved,
            AuditAction::CommandApprovalApproved,
        )
    } else {
        (
            ApprovalStatus::Rejected,
            AuditAction::CommandApprovalRejected,
        )
    };
    let job = approve.then(Uuid::new_v4);
    if !store::decide(
        &mut tx,
        state.workspace,
        id,
        status,
        user.id,
        reason.as_deref(),
        job,
    )
    .await?
    {
        return Err(CoreError::Conflict(
            "this request was decided meanwhile".into(),
        ));
    }
    let mut d = details(&req);
    d["reason"] = reason.clone().into();
    if let Some(job) = job {
        d["job"] = job.to_string().into();
    }
    tx.commit(
        audit::event(action, SUCCESS)
            .actor(&user.username)
            .target(id.to_string())
            .work_session(req.work_session)
            .details(d),
    )
    .await?;
    if let Some(job) = job {
        if let Err(e) = run(state, &req, job).await {
            tracing::error!(approval = %id, error = %e, "cannot start an approved command");
        }
    }
    let decided = store::get(&state.db, state.workspace, id)
        .await?
        .ok_or(CoreError::NotFound("approval"))?;
    let approval = with_session(state, decided).await?;
    state.session_changed(approval.work_session.id, approval.work_session.status);
    Ok(Some(approval))
}

/// Ends one pending request undecided, audited; nothing when it was decided meanwhile.
async fn expire(
    state: &AppState,
    req: &CommandApproval,
    status: ApprovalStatus,
) -> Result<(), CoreError> {
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    if !store::end_undecided(&mut tx, state.workspace, req.id, status).await? {
        return Ok(());
    }
    tx.commit(expired_event(req, status)).await?;
    Ok(())
}

fn expired_event(req: &CommandApproval, status: ApprovalStatus) -> crate::store::audit::NewEvent {
    let mut d = details(req);
    d["status"] = status.as_str().into();
    audit::event(AuditAction::CommandApprovalExpired, SUCCESS)
        .actor("system")
        .target(req.id.to_string())
        .work_session(req.work_session)
        .details(d)
}

/// Expires every request past its time (the scheduler calls this on each pass).
pub async fn expire_due(state: &AppState) -> Result<(), CoreError> {
    for req in store::due(&state.db, state.workspace, now()).await? {
        expire(state, &req, ApprovalStatus::Expired).await?;
        if let Ok(Some(session)) =
            work_sessions::get(&state.db, state.workspace, req.work_session).await
        {
            state.session_changed(session.id, session.status);
        }
    }
    Ok(())
}

/// A session ended: its waiting commands lapse, in the same write as the ending.
pub async fn lapse_for_session(
    tx: &mut WriteTx,
    session: gatehouse_shared::WorkSessionId,
) -> Result<(), StoreError> {
    let ws = tx.workspace();
    for req in store::pending_for_session(tx, ws, session).await? {
        if store::end_undecided(tx, ws, req.id, ApprovalStatus::Lapsed).await? {
            tx.audit(expired_event(&req, ApprovalStatus::Lapsed))
                .await?;
        }
    }
    Ok(())
}

/// Runs an approved command once, as its requester in their session: the gate decides again
/// for each server (the approval stands in only for the declared-commands rule), the job and
/// its start are recorded together, and each run's end is recorded as it comes.
async fn run(state: &AppState, req: &CommandApproval, job: Uuid) -> Result<(), CoreError> {
    let session = work_sessions::get(&state.db, state.workspace, req.work_session)
        .await?
        .map(Arc::new);
    let person = Person::load(state, req.requested_by.id).await?;
    let asker = Asker {
        principal: Principal {
            user_id: req.requested_by.id,
            auth_method: AuthMethod::Password,
        },
        actor: &req.requested_by.username,
        token: None,
    };
    let gate = Gate::new(state, asker).await;
    let mut rows = servers::by_names(&state.db, state.workspace, &req.servers).await?;
    let mut targets = Vec::with_capacity(req.servers.len());
    for name in &req.servers {
        let row = rows.remove(name);
        let link = state.hub.link_of(row.as_ref());
        let agent_is_root = link.as_ref().is_none_or(|l| l.privileged);
        let decided = person.decide(name, req.run_as.as_deref(), agent_is_root);
        let op = decided.operation(Scope::Command, name);
        let note = DenialNote::default();
        let pass = gate
            .check(session.clone(), &op, decided, row.as_ref(), note)
            .await;
        targets.push((name.clone(), link, pass));
    }
    let runs: Vec<(Uuid, String)> = targets
        .iter()
        .map(|(name, _, _)| (Uuid::new_v4(), name.clone()))
        .collect();
    let session_id = Some(req.work_session);
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    exec::insert(
        &mut tx,
        &exec::NewJob {
            id: job,
            work_session: session_id,
            user: req.requested_by.id,
            command: &req.command,
            argv: req.argv.as_deref(),
            run_as: req.run_as.as_deref(),
            timeout_secs: req.timeout_secs,
        },
        &runs,
    )
    .await?;
    tx.commit(
        audit::event(AuditAction::ExecStarted, SUCCESS)
            .actor(&req.requested_by.username)
            .target(job.to_string())
            .work_session(req.work_session)
            .details(typed(&ExecStartedDetails {
                job,
                command: req.command.clone(),
                run_as: req.run_as.clone(),
                servers: req.servers.clone(),
                timeout_secs: req.timeout_secs,
                stdin: false,
                tty: false,
            })),
    )
    .await?;
    let env: Vec<(String, String)> = req.env.clone().unwrap_or_default().into_iter().collect();
    let mut started = Vec::with_capacity(runs.len());
    for ((run_id, name), (_, link, pass)) in runs.into_iter().zip(targets) {
        let channel = ChannelId(run_id);
        let run = Arc::new(ExecRunState::new(channel, name.clone(), session_id));
        started.push((run_id, run.clone()));
        match (link, pass) {
            (_, Err(denial)) => run.finish(RunEnd::Failed(format!(
                "the gate refused when it was to run: {}",
                denial.message
            ))),
            (None, Ok(_)) => run.finish(RunEnd::Failed(format!("server {name} is not connected"))),
            (Some(link), Ok(pass)) => {
                link.add_exec(channel, run.clone());
                let program = match &req.argv {
                    Some(argv) => Program::Argv(argv.clone()),
                    None => Program::Shell(req.command.clone()),
                };
                let (env, timeout) = (env.clone(), req.timeout_secs);
                // Opening waits for the agent's answer: every server at once, as a command
                // started directly does, not one after another.
                tokio::spawn(async move {
                    let opened = link
                        .open_exec(channel, pass, program, env, timeout, ExecIo::default())
                        .await;
                    if let Err(refused) = opened {
                        link.remove(channel);
                        run.finish(RunEnd::Failed(refused.to_string()));
                    }
                });
            }
        }
    }
    let record = JobRecord {
        id: job,
        username: req.requested_by.username.clone(),
        work_session: Some(req.work_session),
        command: req.command.clone(),
    };
    tokio::spawn(record_results(state.clone(), record, started));
    Ok(())
}
