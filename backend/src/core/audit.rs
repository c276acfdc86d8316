//! Recording audit events: a small builder over the store's hash-chained append.
//!
//! A change of state is audited by the commit of its [`crate::store::WriteTx`]. Events that
//! change nothing (a denial, a failed sign-in, a link going up or down) go through
//! [`record_event`], which never lets a failure pass unnoticed.

use crate::core::state::AppState;
use crate::store::audit::NewEvent;
use crate::store::{StoreError, WriteTx};
use crate::time::now;
use gatehouse_shared::audit::{AuditAction, AuditEvent};
use gatehouse_shared::WorkSessionId;

/// Outcomes an event can have.
pub const SUCCESS: &str = "success";
pub const FAILURE: &str = "failure";
pub const DENIED: &str = "denied";

/// Starts an event for `action` (e.g. `auth.login`).
pub fn event(action: AuditAction, outcome: &'static str) -> NewEvent {
    NewEvent {
        actor: None,
        action,
        target: None,
        outcome,
        work_session: None,
        server: None,
        details: serde_json::json!({}),
    }
}

impl NewEvent {
    pub fn actor(mut self, username: impl Into<String>) -> Self {
        self.actor = Some(username.into());
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn work_session(mut self, id: WorkSessionId) -> Self {
        self.work_session = Some(id.to_string());
        self
    }

    /// The work session's timeline, when there is one (a token's terminal has none).
    pub fn in_session(mut self, id: Option<WorkSessionId>) -> Self {
        self.work_session = id.map(|id| id.to_string());
        self
    }

    pub fn server(mut self, name: impl Into<String>) -> Self {
        self.server = Some(name.into());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Typed details as the JSON value an event stores.
pub fn typed(details: &impl serde::Serialize) -> serde_json::Value {
    // Our own plain structs always serialise.
    serde_json::to_value(details).unwrap_or_default()
}

/// Appends an event that accompanies no change of state, in its own transaction. A failure is
/// logged here, with the action, before it is returned: callers that cannot undo anything
/// (a link that already dropped) may go on, but the failure is never silent.
pub async fn record_event(state: &AppState, event: NewEvent) -> Result<AuditEvent, StoreError> {
    let action = event.action;
    let result = async {
        WriteTx::begin(&state.db, state.workspace, now())
            .await?
            .commit(event)
            .await
    }
    .await;
    if let Err(e) = &result {
        tracing::error!(%action, error = %e, "cannot append to the audit log");
    }
    result
}
