//! Who may attach to a command job's stream: its owner, with the same kind of credential that
//! started it, while the gate still allows the command on every server of the job.

use crate::core::gate::{DenialNote, Gate};
use crate::core::gateway::exec_job::LiveJob;
use crate::core::state::AppState;
use crate::error::ApiError;
use crate::extract::AuthUser;
use crate::gatekeeper::{asker, person, run_as, targets};
use crate::store::work_sessions;
use gatehouse_shared::exec_stream::close;
use gatehouse_shared::gate::Detail;
use gatehouse_shared::Scope;
use std::sync::Arc;
use uuid::Uuid;

/// A refusal after the upgrade: a close code and a reason the client can show.
pub type Refusal = (u16, String);

fn not_found() -> Refusal {
    (close::NOT_FOUND, "no such command job".to_owned())
}

/// The job's owner, with the credential that started it (a token's job only with that token, a
/// session's only with a sign-in), while the gate still allows the command on every server.
/// Elevation (declared root commands, step-up MFA) was decided when the job started and is not
/// asked again.
pub async fn admit(
    state: &AppState,
    auth: Result<AuthUser, ApiError>,
    id: Uuid,
) -> Result<(Arc<LiveJob>, String), Refusal> {
    let auth = auth.map_err(|e| (close::UNAUTHENTICATED, e.0.message))?;
    let job = state.hub.job(id).ok_or_else(not_found)?;
    if job.owner != auth.id || job.token != auth.token {
        return Err(not_found());
    }
    fn gate_error<E>(_: E) -> Refusal {
        (close::GATE_DENIED, "cannot check the gate".to_owned())
    }
    let session = match job.work_session {
        Some(session) => work_sessions::get(&state.db, state.workspace, session)
            .await
            .map_err(gate_error)?
            .map(Arc::new),
        None => None,
    };
    let person = person(state, &auth).await.map_err(gate_error)?;
    let detail = match &job.argv {
        Some(argv) => Detail::Argv(argv),
        None => Detail::None,
    };
    // Every server again, even for a job that ended: reading what it printed is still using
    // the session (or token) that ran it.
    let names: Vec<String> = job.runs.iter().map(|r| r.server_name.clone()).collect();
    let servers = targets(state, &names).await.map_err(gate_error)?;
    let gate = Gate::new(state, asker(&auth)).await;
    for (run, (row, link)) in job.runs.iter().zip(servers) {
        let decided = run_as(
            &person,
            &run.server_name,
            job.run_as.as_deref(),
            link.as_ref(),
        );
        let op = decided
            .operation(Scope::Command, &run.server_name)
            .with_detail(detail);
        let note = DenialNote {
            attach_exec: Some(job.id),
            ..DenialNote::default()
        };
        gate.check(session.clone(), &op, decided, row.as_ref(), note)
            .await
            .map_err(|denial| (close::GATE_DENIED, denial.message))?;
    }
    Ok((job, auth.username))
}
