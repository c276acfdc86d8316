//! Applies start times and expiry: sleeps until the earliest deadline (or until woken because
//! a deadline may have moved earlier), then transitions every session that is due.
//! No per-second table scans: one indexed `MIN(next_deadline)` per wake-up.

use crate::core::sessions::transition;
use crate::core::state::AppState;
use crate::core::CoreError;
use crate::store::{logins, throttle, work_sessions};
use crate::time::now;
use chrono::Duration as ChronoDuration;
use gatehouse_shared::lifecycle::{Action, Actor};
use gatehouse_shared::Status;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The longest the scheduler sleeps without looking (also the housekeeping period).
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Starts the scheduler task; it runs until the runtime shuts down.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(err) = run_due(&state).await {
                tracing::error!(error = %err, "scheduler pass failed");
            }
            let next = match work_sessions::next_deadline(&state.db, state.workspace).await {
                // A command approval's expiry is a deadline too.
                Ok(at) => crate::store::command_approvals::next_expiry(&state.db, state.workspace)
                    .await
                    .map(|c| at.into_iter().chain(c).min()),
                Err(e) => Err(e),
            };
            let sleep = match next {
                Ok(Some(at)) => (at - now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(MAX_SLEEP),
                Ok(None) => MAX_SLEEP,
                Err(err) => {
                    tracing::error!(error = %err, "scheduler could not read deadlines");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = state.scheduler_wakeup.notified() => {}
            }
        }
    })
}

/// Transitions every session whose deadline has passed, then does light housekeeping.
pub async fn run_due(state: &AppState) -> Result<(), CoreError> {
    let now = now();
    for id in work_sessions::due(&state.db, state.workspace, now).await? {
        let Some(session) = work_sessions::get(&state.db, state.workspace, id).await? else {
            continue;
        };
        let action = if session.expires_at.is_some_and(|e| e <= now) {
            Action::Expire
        } else if session.status == Status::Approved && session.starts_at.is_some_and(|s| s <= now)
        {
            Action::Start
        } else {
            continue;
        };
        match transition(state, id, &Actor::System, &action).await {
            Ok(after) => {
                tracing::info!(session = %id, status = %after.status, "scheduler transition")
            }
            // Someone else changed it first; the next pass sees the new deadline.
            Err(err) => {
                tracing::warn!(session = %id, error = %err, "scheduler transition skipped")
            }
        }
    }
    // Single-command approvals nobody decided in time.
    crate::core::command_approvals::expire_due(state).await?;
    logins::purge_expired(&state.db, state.workspace, now).await?;
    let window = ChronoDuration::seconds(state.config.throttle.window_secs);
    throttle::purge_older_than(&state.db, state.workspace, now, window).await?;
    crate::store::shares::purge_tickets(&state.db, state.workspace, now).await?;
    Ok(())
}
