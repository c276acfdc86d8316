//! What a command job leaves behind: each run's result (status, exit, the captured head and
//! tail of its output) stored with its `exec.run` audit event as the run ends. Runs that end
//! together (a thousand servers end within milliseconds of each other) share one write.

use crate::core::audit::{self, typed, SUCCESS};
use crate::core::gateway::capture::{ExecRunState, RunEnd};
use crate::core::state::AppState;
use crate::store::{exec as store, StoreError, WriteTx};
use crate::time::now;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use gatehouse_shared::audit::{AuditAction, ExecRunDetails};
use gatehouse_shared::exec::{ExecRun, RunStatus};
use gatehouse_shared::WorkSessionId;
use std::sync::Arc;
use uuid::Uuid;

/// The job the runs belong to, as their audit events name it.
pub struct JobRecord {
    pub id: Uuid,
    pub username: String,
    pub work_session: Option<WorkSessionId>,
    pub command: String,
}

/// Stores each run's result and its audit event as it ends, until every run has; the runs
/// that ended by the time a write starts go into that write together.
pub async fn record_results(state: AppState, job: JobRecord, runs: Vec<(Uuid, Arc<ExecRunState>)>) {
    let mut pending: FuturesUnordered<_> = runs
        .into_iter()
        .map(|(id, run)| async move {
            let end = run.wait().await;
            (id, run, end)
        })
        .collect();
    while let Some(first) = pending.next().await {
        let mut batch = vec![first];
        while let Some(Some(more)) = pending.next().now_or_never() {
            batch.push(more);
        }
        if let Err(e) = store_batch(&state, &job, &batch).await {
            tracing::error!(error = %e, job = %job.id, "cannot store exec results");
        }
    }
}

/// One write: the batch's results, then their events, all or nothing.
async fn store_batch(
    state: &AppState,
    job: &JobRecord,
    batch: &[(Uuid, Arc<ExecRunState>, RunEnd)],
) -> Result<(), StoreError> {
    let results: Vec<(Uuid, ExecRun)> = batch
        .iter()
        .map(|(id, run, end)| (*id, to_run(run, end)))
        .collect();
    let mut events: Vec<_> = results
        .iter()
        .zip(batch)
        .map(|((_, result), (_, run, end))| {
            let event = audit::event(AuditAction::ExecRun, SUCCESS)
                .actor(&job.username)
                .target(job.id.to_string())
                .server(&run.server_name)
                .details(typed(&ExecRunDetails {
                    job: job.id,
                    command: job.command.clone(),
                    status: result.status,
                    exit_code: result.exit_code,
                    duration_ms: result.duration_ms,
                    error: result.error.clone(),
                    signal: end.signal(),
                }));
            match job.work_session {
                Some(ws) => event.work_session(ws),
                None => event,
            }
        })
        .collect();
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    store::finish_runs(&mut tx, state.workspace, &results).await?;
    // The batch is never empty: the last event commits the write.
    let Some(last) = events.pop() else {
        return Ok(());
    };
    tx.audit_all(events).await?;
    tx.commit(last).await?;
    Ok(())
}

/// A run's result as the API shows it, from how it ended and what it printed.
pub fn to_run(run: &ExecRunState, end: &RunEnd) -> ExecRun {
    let stdout = run.stdout.lock().unwrap_or_else(|e| e.into_inner()).text();
    let stderr = run.stderr.lock().unwrap_or_else(|e| e.into_inner()).text();
    let (status, exit_code, duration_ms, error) = match end {
        RunEnd::Done {
            exit_code,
            timed_out,
            duration_ms,
            ..
        } => (
            if *timed_out {
                RunStatus::TimedOut
            } else if *exit_code == Some(0) {
                RunStatus::Succeeded
            } else {
                RunStatus::Failed
            },
            *exit_code,
            Some(*duration_ms),
            None,
        ),
        RunEnd::Failed(message) => (RunStatus::Error, None, None, Some(message.clone())),
    };
    ExecRun {
        server: run.server_name.clone(),
        status,
        exit_code,
        stdout,
        stderr,
        duration_ms,
        error,
    }
}
