//! Recording audit events: a small builder over the store's hash-chained append.

use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::audit::{append, NewEvent};
use crate::time::now;
use gatehouse_shared::WorkSessionId;

/// Outcomes an event can have.
pub const SUCCESS: &str = "success";
pub const FAILURE: &str = "failure";
pub const DENIED: &str = "denied";

/// Starts an event for `action` (e.g. `auth.login`).
pub fn event(action: &str, outcome: &'static str) -> NewEvent {
    NewEvent {
        actor: None,
        action: action.to_owned(),
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

    pub fn server(mut self, name: impl Into<String>) -> Self {
        self.server = Some(name.into());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Appends one event in its own write transaction.
pub async fn record(state: &AppState, event: NewEvent) -> ApiResult<()> {
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    append(&mut tx, state.workspace, event, now()).await?;
    tx.commit().await?;
    Ok(())
}
