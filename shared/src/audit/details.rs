//! Typed details of the audit events that clients read back (the session timeline): the server
//! writes them from these types and the console reads them into the same types. Each serialises
//! to exactly the JSON earlier releases wrote by hand (every field present, `null` when empty),
//! so stored rows and the hash chain are unchanged.

use crate::exec::RunStatus;
use crate::work_session::Adjustments;
use crate::{Scope, Status};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Every `work_session.*` transition: where it went from and to, and the session as it is after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionDetails {
    pub from: Status,
    pub to: Status,
    pub purpose: String,
    pub scopes: Vec<Scope>,
    pub servers: Vec<String>,
    pub adjustments: Option<Adjustments>,
    pub reason: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The extension request this transition grants (absent on every other transition, so
    /// rows written before it existed read and hash the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Uuid>,
}

/// `work_session.extension_requested` and `work_session.extension_rejected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionDetails {
    pub approval: Uuid,
    pub duration_secs: Option<i64>,
    pub requested_expires_at: Option<DateTime<Utc>>,
    pub current_expires_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// `exec.started`: a command sent to its servers, recorded with the job's rows before any
/// agent runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecStartedDetails {
    pub job: Uuid,
    pub command: String,
    pub run_as: Option<String>,
    pub servers: Vec<String>,
    pub timeout_secs: u64,
    /// Standard input came from the job's stream (absent, as in rows written before, when not).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stdin: bool,
    /// It ran on a pseudo-terminal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tty: bool,
}

/// `exec.run`: one command on one server, as it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecRunDetails {
    pub job: Uuid,
    pub command: String,
    pub status: RunStatus,
    pub exit_code: Option<i32>,
    pub duration_ms: Option<u64>,
    pub error: Option<String>,
    /// The signal that ended it, when one did (absent otherwise, as in rows written before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
}

/// `exec.signal`: the owner of a running job sent its commands a signal through the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecSignalDetails {
    pub job: Uuid,
    pub command: String,
    pub signal: crate::exec_stream::ExecSignal,
    /// The servers whose run was still going.
    pub servers: Vec<String>,
}

/// `websh.opened` and `websh.closed`: a terminal and its recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WebshDetails {
    Opened {
        websh: Uuid,
        run_as: Option<String>,
        cols: u16,
        rows: u16,
        recording: String,
    },
    Closed {
        websh: Uuid,
        exit_code: Option<i32>,
        /// `revoked`, `expired`, `completed` or `terminated` when the gateway ended it.
        reason: Option<String>,
        output_bytes: u64,
        recording: String,
    },
}

impl WebshDetails {
    /// The terminal the event is about.
    pub fn websh(&self) -> Uuid {
        match self {
            WebshDetails::Opened { websh, .. } | WebshDetails::Closed { websh, .. } => *websh,
        }
    }

    /// Where its recording is played from.
    pub fn recording_path(websh: Uuid) -> String {
        format!("/api/websh/{websh}/recording")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The exact JSON text the hand-written details of earlier releases produced.
    #[test]
    fn typed_details_serialise_to_the_bytes_written_before() {
        let id = Uuid::nil();
        let opened = WebshDetails::Opened {
            websh: id,
            run_as: None,
            cols: 80,
            rows: 24,
            recording: WebshDetails::recording_path(id),
        };
        let before = json!({
            "websh": id, "run_as": None::<String>, "cols": 80, "rows": 24,
            "recording": format!("/api/websh/{id}/recording"),
        });
        assert_eq!(
            serde_json::to_value(&opened).unwrap().to_string(),
            before.to_string()
        );
        let closed = WebshDetails::Closed {
            websh: id,
            exit_code: Some(0),
            reason: None,
            output_bytes: 12,
            recording: WebshDetails::recording_path(id),
        };
        let before = json!({
            "websh": id, "exit_code": Some(0), "reason": None::<&str>, "output_bytes": 12,
            "recording": format!("/api/websh/{id}/recording"),
        });
        assert_eq!(
            serde_json::to_value(&closed).unwrap().to_string(),
            before.to_string()
        );
        let run = ExecRunDetails {
            job: id,
            command: "uptime".into(),
            status: RunStatus::Failed,
            exit_code: None,
            duration_ms: Some(5),
            error: Some("the agent disconnected".into()),
            signal: None,
        };
        let before = json!({
            "job": id, "command": "uptime", "status": RunStatus::Failed,
            "exit_code": None::<i32>, "duration_ms": Some(5), "error": "the agent disconnected",
        });
        assert_eq!(
            serde_json::to_value(&run).unwrap().to_string(),
            before.to_string()
        );
        let at = DateTime::parse_from_rfc3339("2026-12-06T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let transition = TransitionDetails {
            from: Status::Active,
            to: Status::Revoked,
            purpose: "deploy".into(),
            scopes: vec![Scope::Websh],
            servers: vec!["web-01".into()],
            adjustments: None,
            reason: Some("done".into()),
            expires_at: Some(at),
            approval: None,
        };
        let before = json!({
            "from": Status::Active, "to": Status::Revoked, "purpose": "deploy",
            "scopes": [Scope::Websh], "servers": ["web-01"], "adjustments": None::<Adjustments>,
            "reason": "done", "expires_at": Some(at),
        });
        assert_eq!(
            serde_json::to_value(&transition).unwrap().to_string(),
            before.to_string()
        );
        // And they read back into their types.
        assert_eq!(
            serde_json::from_value::<WebshDetails>(serde_json::to_value(&closed).unwrap()).unwrap(),
            closed
        );
    }
}
