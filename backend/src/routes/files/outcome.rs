//! How file operations end: the agent's refusals as API errors, and their audit events.
//!
//! Every event carries the work session and the server, so it lands on the session's timeline,
//! and its target is the path, so the audit log can be searched by file.

use crate::core::audit::{self, FAILURE, SUCCESS};
use crate::core::gateway::files::ChannelEnd;
use crate::core::state::AppState;
use crate::error::ApiError;
use crate::store::audit::NewEvent;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::files::{FileErrorKind, FileReply};
use gatehouse_shared::websh::EndReason;
use gatehouse_shared::{ErrorCode, WorkSessionId};
use serde_json::{json, Value};
use std::time::Instant;

/// The agent's refusal as the API error that fits it; `field` names the path parameter.
pub fn agent_error(kind: FileErrorKind, message: &str, field: &str) -> ApiError {
    match kind {
        FileErrorKind::NotFound => ApiError::new(ErrorCode::NotFound, message),
        FileErrorKind::PermissionDenied => ApiError::forbidden(message),
        FileErrorKind::Conflict => ApiError::conflict(message),
        FileErrorKind::InvalidPath => ApiError::validation(field, message),
        FileErrorKind::IsADirectory | FileErrorKind::NotADirectory | FileErrorKind::Unsupported => {
            ApiError::bad_request(message)
        }
        FileErrorKind::Interrupted | FileErrorKind::Io => ApiError::new(
            ErrorCode::Internal,
            format!("the agent could not complete the file operation: {message}"),
        ),
    }
}

/// The gateway's end of a channel as an API error.
pub fn ended(end: ChannelEnd) -> ApiError {
    match end {
        ChannelEnd::Session(EndReason::Expired) => {
            ApiError::new(ErrorCode::WorkSessionExpired, end.message())
        }
        ChannelEnd::Session(_) => ApiError::new(ErrorCode::WorkSessionNotUsable, end.message()),
        ChannelEnd::LinkLost | ChannelEnd::Protocol | ChannelEnd::Timeout => {
            ApiError::new(ErrorCode::Internal, end.message())
        }
    }
}

/// The agent's stream broke a rule the gateway checks (offsets, size, checksum).
pub fn protocol(message: String) -> ApiError {
    ApiError::new(ErrorCode::Internal, message)
}

/// A reply that does not belong where it came.
pub fn unexpected(reply: &FileReply) -> ApiError {
    tracing::warn!(?reply, "unexpected file reply from an agent");
    ApiError::new(
        ErrorCode::Internal,
        "the agent answered the file operation out of protocol",
    )
}

/// Who did what where, for the events of one request.
#[derive(Clone)]
pub struct FileAudit {
    pub state: AppState,
    pub actor: String,
    pub server: String,
    pub work_session: Option<WorkSessionId>,
    pub run_as: Option<String>,
}

impl FileAudit {
    fn event(
        &self,
        action: AuditAction,
        outcome: &'static str,
        path: &str,
        details: Value,
    ) -> NewEvent {
        let mut details = match details {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        details.insert("path".into(), json!(path));
        details.insert("run_as".into(), json!(self.run_as));
        let mut event = audit::event(action, outcome)
            .actor(&self.actor)
            .target(path)
            .server(&self.server)
            .details(Value::Object(details));
        if let Some(session) = self.work_session {
            event = event.work_session(session);
        }
        event
    }

    /// Records an event. A failure to record is logged, not returned: the file operation has
    /// already happened on the server and its answer must not claim otherwise.
    pub async fn record(
        &self,
        action: AuditAction,
        outcome: &'static str,
        path: &str,
        details: Value,
    ) {
        let event = self.event(action, outcome, path, details);
        if let Err(e) = audit::record_event(&self.state, event).await {
            tracing::error!(%action, error = %e, "cannot audit a file operation");
        }
    }

    pub async fn success(&self, action: AuditAction, path: &str, details: Value) {
        self.record(action, SUCCESS, path, details).await;
    }

    /// Records a failure and returns the error for the response.
    pub async fn failure(&self, action: AuditAction, path: &str, error: ApiError) -> ApiError {
        let details = json!({"error": error.0.message, "error_code": error.0.error_code});
        self.record(action, FAILURE, path, details).await;
        error
    }
}

/// The audit record of one streamed transfer: written exactly once, when it succeeds, fails,
/// or is dropped half-way (the client went away).
pub struct TransferLog {
    audit: FileAudit,
    action: AuditAction,
    path: String,
    /// Fields every event of this transfer carries (`overwrite`, `editor`).
    extra: Value,
    started: Instant,
    done: bool,
}

impl TransferLog {
    pub fn new(audit: FileAudit, action: AuditAction, path: String, extra: Value) -> Self {
        Self {
            audit,
            action,
            path,
            extra,
            started: Instant::now(),
            done: false,
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    fn details(&self, fields: Value) -> Value {
        let mut details = self.extra.clone();
        if let (Value::Object(into), Value::Object(from)) = (&mut details, fields) {
            into.extend(from);
        }
        details["duration_ms"] = json!(self.started.elapsed().as_millis() as u64);
        details
    }

    pub async fn success(&mut self, size: u64, sha256: &str, mtime: i64) {
        self.done = true;
        let details = self.details(json!({"size": size, "sha256": sha256, "mtime": mtime}));
        self.audit
            .record(self.action, SUCCESS, &self.path, details)
            .await;
    }

    /// The transfer failed after `bytes` bytes; `interrupted` when it was cut rather than
    /// refused (the client or the agent went away, the session ended).
    pub async fn failure(&mut self, bytes: u64, error: &ApiError, interrupted: bool) {
        self.done = true;
        let mut details = self.failure_details(bytes, &error.0.message, interrupted);
        details["error_code"] = json!(error.0.error_code);
        self.audit
            .record(self.action, FAILURE, &self.path, details)
            .await;
    }

    fn failure_details(&self, bytes: u64, error: &str, interrupted: bool) -> Value {
        self.details(json!({"bytes": bytes, "error": error, "interrupted": interrupted}))
    }

    /// For `Drop`: the transfer was abandoned mid-way; recorded in the background.
    pub fn abandoned(&mut self, bytes: u64, error: &str) {
        if self.done {
            return;
        }
        self.done = true;
        let event = self.audit.event(
            self.action,
            FAILURE,
            &self.path,
            self.failure_details(bytes, error, true),
        );
        let state = self.audit.state.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = audit::record_event(&state, event).await {
                    tracing::error!(error = %e, "cannot audit an abandoned transfer");
                }
            });
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }
}
