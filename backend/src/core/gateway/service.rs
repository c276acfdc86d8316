//! Terminal bookkeeping shared by the link, the watcher and the API: writing a terminal's end
//! to the store and the audit log exactly once, and bringing a terminal back after a restart.

use crate::core::audit::{self, SUCCESS};
use crate::core::gateway::recording::{self, Recorder};
use crate::core::gateway::terminal::{Terminal, TerminalInfo};
use crate::core::gateway::text;
use crate::core::state::AppState;
use crate::store::recordings;
use crate::store::websh::{self, WebshRow};
use crate::store::{StoreError, WriteTx};
use crate::time::now;
use gatehouse_shared::agent_link::ChannelId;
use gatehouse_shared::audit::{AuditAction, WebshDetails};
use gatehouse_shared::websh::EndReason;
use std::sync::Arc;

pub fn end_reason_text(reason: EndReason) -> &'static str {
    match reason {
        EndReason::Revoked => "revoked",
        EndReason::Expired => "expired",
        EndReason::Completed => "completed",
        EndReason::Terminated => "terminated",
    }
}

/// Records the terminal's end (once) and forgets it.
pub async fn finalize(state: &AppState, term: &Arc<Terminal>) {
    if !term.take_finalize() {
        return;
    }
    let snap = term.snapshot();
    let reason = snap.ended.map(end_reason_text);
    let event = audit::event(AuditAction::WebshClosed, SUCCESS)
        .actor(&term.owner_name)
        .target(term.id.to_string())
        .in_session(term.work_session)
        .server(&term.server_name)
        .details(audit::typed(&WebshDetails::Closed {
            websh: term.id.0,
            exit_code: snap.exit,
            reason: reason.map(str::to_owned),
            output_bytes: snap.end,
            recording: WebshDetails::recording_path(term.id.0),
        }));
    // The searchable text comes from the file as it ends (the recorder is closed by now), so
    // it is whole even for a terminal taken over after a restart. It is stored once, here; while
    // the terminal is live a search reads its file instead (`core::recordings`).
    let path = state.recording_path(&recording::file_name(term.id.0));
    let text = tokio::task::spawn_blocking(move || text::extract(&path))
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r);
    if let Err(e) = &text {
        tracing::warn!(terminal = %term.id, error = %e, "cannot read a recording's text");
    }
    // The end, the text and the audit row land together; on failure the row stays open and
    // the restart recovery (or the agent's report) finishes it again.
    let written: Result<_, StoreError> = async {
        let at = now();
        let mut tx = WriteTx::begin(&state.db, state.workspace, at).await?;
        websh::finish(&mut tx, state.workspace, term.id.0, snap.exit, reason, at).await?;
        if let Ok(text) = &text {
            recordings::save_text(&mut tx, term.id.0, text).await?;
        }
        tx.commit(event).await
    }
    .await;
    if let Err(e) = written {
        tracing::error!(terminal = %term.id, error = %e, "cannot record the terminal's end");
    }
    if let Some(link) = term.link() {
        link.remove(term.id);
    }
    state.hub.remove_terminal(term.id);
}

/// Rebuilds a terminal the store knows but memory does not (the gateway restarted while the
/// agent kept the PTY). Returns `None` when its recording cannot be reopened.
pub fn restore(state: &AppState, row: &WebshRow) -> Option<Arc<Terminal>> {
    let (id, authority, server_id, owner) = row.ids().ok()?;
    let (recorder, tail) = match Recorder::reopen(&state.recording_path(&row.recording)) {
        Ok(reopened) => reopened,
        Err(e) => {
            tracing::warn!(terminal = %id, error = %e, "cannot reopen the recording");
            return None;
        }
    };
    let end = recorder.output_bytes();
    let info = TerminalInfo {
        id: ChannelId(id),
        work_session: authority.work_session(),
        token: authority.token(),
        owner,
        owner_name: row.username.clone(),
        server_id,
        server_name: row.server_name.clone(),
        run_as: row.run_as.clone(),
        started_at: crate::time::from_micros(row.created_at),
    };
    let term = Terminal::new(info, recorder, end, tail);
    state.hub.restore_terminal(term.clone());
    Some(term)
}
