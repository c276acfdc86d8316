//! Ends live channels when the work session (or, for a terminal an API token opened, the token)
//! that authorized them stops being usable: pushed by
//! the session-change broadcast, so a revoke or an expiry cuts terminals, commands and file
//! transfers at once, and backed by a sweep each second over every live channel, so a change the
//! broadcast missed still does.

use crate::core::gateway::capture::RunEnd;
use crate::core::gateway::exec_job::LiveJob;
use crate::core::gateway::files::ChannelEnd;
use crate::core::gateway::hub::Channel;
use crate::core::gateway::service;
use crate::core::gateway::terminal::Terminal;
use crate::core::runas::RunAs;
use crate::core::state::AppState;
use crate::core::token_acl::TokenAccess;
use crate::core::CoreError;
use crate::store::work_sessions;
use crate::time::now;
use gatehouse_shared::agent_link::GatewayMessage;
use gatehouse_shared::gate::{runs_as_root, Detail};
use gatehouse_shared::websh::EndReason;
use gatehouse_shared::work_session::Unusable;
use gatehouse_shared::{Scope, Status, TokenId, WorkSession, WorkSessionId};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// Why channels of a session in `status` must end, if they must.
pub fn end_reason(status: Status) -> Option<EndReason> {
    match status {
        Status::Pending | Status::Approved | Status::Active => None,
        Status::Revoked => Some(EndReason::Revoked),
        Status::Expired => Some(EndReason::Expired),
        Status::Completed => Some(EndReason::Completed),
        Status::Rejected | Status::Cancelled => Some(EndReason::Terminated),
    }
}

/// The reason `session` no longer authorizes anything now, if any: the gate's own rule.
fn unusable(session: &WorkSession) -> Option<EndReason> {
    match session.usable_at(now()) {
        Ok(()) => None,
        Err(Unusable::Expired) => Some(EndReason::Expired),
        Err(Unusable::NotActiveYet) => Some(EndReason::Terminated),
        Err(Unusable::Ended) => Some(end_reason(session.status).unwrap_or(EndReason::Terminated)),
    }
}

/// How often every live channel's session is read back from the store, whatever the broadcast
/// said: a change it cannot carry (written by another process on the same database) or one it
/// dropped still ends the channels within this time.
pub const SWEEP: std::time::Duration = std::time::Duration::from_secs(1);

pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut changes = state.session_changes.subscribe();
        crate::core::tunnels::restore_unended(&state).await;
        let mut sweep = tokio::time::interval(SWEEP);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                change = changes.recv() => match change {
                    Ok(change) => {
                        if let Some(reason) = end_reason(change.status) {
                            end_session_channels(&state, change.id, reason).await;
                        }
                    }
                    // Missed some changes: look at every live channel's session instead.
                    Err(RecvError::Lagged(_)) => recheck_all(&state).await,
                    Err(RecvError::Closed) => break,
                },
                _ = sweep.tick() => {
                    recheck_all(&state).await;
                    flush_recordings(&state).await;
                }
            }
        }
    })
}

/// Hands every live terminal's buffered recording to the operating system (output waits in
/// the buffer until the agent is due credit, which a quiet terminal may not be for long).
async fn flush_recordings(state: &AppState) {
    for term in state.hub.all_terminals() {
        if !term.flush_recording() {
            service::finalize(state, &term).await;
        }
    }
}

/// Ends every terminal, command and file channel `session` authorized.
pub async fn end_session_channels(state: &AppState, session: WorkSessionId, reason: EndReason) {
    // Command jobs first, so their streams say why their runs ended.
    for job in state.hub.jobs_of(session) {
        job.end(reason, &session_ended_text(reason));
    }
    // Terminals are found through the hub: one may be between links (its agent reconnecting).
    for term in state.hub.terminals_of(session) {
        term.end(reason);
        service::finalize(state, &term).await;
    }
    for link in state.hub.all_links() {
        for channel in link.channels_of(session) {
            match channel {
                Channel::Pty(_) => {}
                Channel::Exec(run) => {
                    link.try_send(&GatewayMessage::Close {
                        channel: run.channel,
                    });
                    link.remove(run.channel);
                    run.finish(RunEnd::Failed(session_ended_text(reason)));
                }
                Channel::File(file) => {
                    link.try_send(&GatewayMessage::Close { channel: file.id });
                    link.remove(file.id);
                    file.end(ChannelEnd::Session(reason));
                }
                Channel::Tunnel(conn) => {
                    link.try_send(&GatewayMessage::Close { channel: conn.id });
                    link.remove(conn.id);
                    conn.on_closed(Some(session_ended_text(reason)));
                }
            }
        }
    }
    crate::core::tunnels::end_session(state, session, reason).await;
}

fn session_ended_text(reason: EndReason) -> String {
    format!(
        "the work session ended ({}) while the command ran",
        service::end_reason_text(reason)
    )
}

/// After missed changes: checks the session of every live channel, of every kind, once.
pub async fn recheck_all(state: &AppState) {
    let mut sessions: Vec<WorkSessionId> = state
        .hub
        .all_terminals()
        .iter()
        .filter_map(|term| term.work_session)
        .chain(
            state
                .hub
                .all_links()
                .iter()
                .flat_map(|link| link.all_channels())
                .filter_map(|channel| channel.work_session()),
        )
        .collect();
    sessions.sort();
    sessions.dedup();
    for session in sessions {
        if let Some(reason) = session_end(state, session).await {
            end_session_channels(state, session, reason).await;
        }
    }
    crate::core::tunnels::recheck(state).await;
    // Terminals an API token opened: the token itself (revoked, expired, its owner disabled)
    // and its rules as they are now are what keep them open.
    for term in state.hub.all_terminals() {
        if term.token.is_some() && term.is_live() {
            check_terminal(state, &term).await;
        }
    }
    // Commands an API token started, likewise.
    for job in state.hub.all_jobs() {
        if job.token.is_some() && !job.finished() && job_token_end(state, &job).await {
            job.end(
                EndReason::Revoked,
                "the API token was revoked or no longer allows the command",
            );
        }
    }
}

/// A token was revoked: what it keeps open ends now, pushed rather than left to the sweep.
pub async fn token_revoked(state: &AppState, token: TokenId) {
    for job in state.hub.all_jobs() {
        if job.token == Some(token) && !job.finished() {
            job.end(EndReason::Revoked, "the API token was revoked");
        }
    }
    for term in state.hub.all_terminals() {
        if term.token == Some(token) && term.is_live() {
            check_terminal(state, &term).await;
        }
    }
    crate::core::tunnels::recheck_token(state, Some(token)).await;
}

/// Whether the token a job rides on no longer allows it on one of its servers (a store error
/// counts as allowed, as for terminals).
async fn job_token_end(state: &AppState, job: &LiveJob) -> bool {
    let Some(token) = job.token else {
        return false;
    };
    let access = match TokenAccess::load(state, token).await {
        Ok(access) => access,
        Err(CoreError::NotFound(_)) => return true,
        Err(_) => return false,
    };
    let run_as = RunAs {
        user: job.run_as.clone(),
        as_root: runs_as_root(job.run_as.as_deref()),
        as_other: false,
        own: false,
    };
    let detail = match &job.argv {
        Some(argv) => Detail::Argv(argv),
        None => Detail::None,
    };
    job.runs.iter().any(|run| {
        let op = run_as
            .operation(Scope::Command, &run.server_name)
            .with_detail(detail);
        !access.decide(&op, &run_as).0.allowed
    })
}

/// Why the terminal token `term` rides on no longer allows it, if it does not (a store error
/// counts as allowed: the watcher is a second line, the gate already ran).
async fn token_end(state: &AppState, term: &Terminal) -> Option<EndReason> {
    let token = term.token?;
    match TokenAccess::load(state, token).await {
        Ok(access) => {
            let run_as = RunAs {
                user: term.run_as.clone(),
                as_root: runs_as_root(term.run_as.as_deref()),
                as_other: false,
                own: false,
            };
            let op = run_as.operation(Scope::Websh, &term.server_name);
            (!access.decide(&op, &run_as).0.allowed).then_some(EndReason::Revoked)
        }
        Err(CoreError::NotFound(_)) => Some(EndReason::Revoked),
        Err(_) => None,
    }
}

/// Why `session` no longer authorizes anything, if it does not (a store error counts as
/// usable: the watcher is a second line, the gate already ran).
pub async fn session_end(state: &AppState, session: WorkSessionId) -> Option<EndReason> {
    match work_sessions::get(&state.db, state.workspace, session).await {
        Ok(Some(s)) => unusable(&s),
        Ok(None) => Some(EndReason::Terminated),
        Err(_) => None,
    }
}

/// Ends `term` if its session is no longer usable (after a restart or a missed change).
pub async fn check_terminal(state: &AppState, term: &Arc<Terminal>) {
    let ended = match term.work_session {
        Some(session) => session_end(state, session).await,
        None => token_end(state, term).await,
    };
    if let Some(reason) = ended {
        term.end(reason);
        service::finalize(state, term).await;
    }
}
