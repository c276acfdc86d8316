//! The approvals queue (`GET /api/approvals`): every decision waiting for a superuser, whatever
//! it is about: a work-session request, or an extension of a session beyond its approved window.

use crate::work_session::ExtendWorkSession;
use crate::{Status, UserRef, WorkSessionId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use uuid::Uuid;

/// What an approval decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalKind {
    /// A new work session (its id is the session's id).
    WorkSession,
    /// Pushing an active or approved session's expiry past what was approved.
    Extension,
    /// One root command outside the session's declared `sudo_commands`, run once if approved.
    Command,
}

impl ApprovalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalKind::WorkSession => "work_session",
            ApprovalKind::Extension => "extension",
            ApprovalKind::Command => "command",
        }
    }
}

impl FromStr for ApprovalKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "work_session" => Ok(ApprovalKind::WorkSession),
            "extension" => Ok(ApprovalKind::Extension),
            "command" => Ok(ApprovalKind::Command),
            other => Err(format!("unknown approval kind {other:?}")),
        }
    }
}

/// Where an approval stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    /// Withdrawn by the requester.
    Cancelled,
    /// The session it was about ended before anyone decided.
    Lapsed,
    /// Nobody decided within its time (single commands: 15 minutes).
    Expired,
}

impl ApprovalStatus {
    pub const ALL: [ApprovalStatus; 6] = [
        ApprovalStatus::Pending,
        ApprovalStatus::Approved,
        ApprovalStatus::Rejected,
        ApprovalStatus::Cancelled,
        ApprovalStatus::Lapsed,
        ApprovalStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
            ApprovalStatus::Cancelled => "cancelled",
            ApprovalStatus::Lapsed => "lapsed",
            ApprovalStatus::Expired => "expired",
        }
    }

    /// How a work session's own status reads as an approval.
    pub fn of_session(status: Status) -> Self {
        match status {
            Status::Pending => ApprovalStatus::Pending,
            Status::Rejected => ApprovalStatus::Rejected,
            Status::Cancelled => ApprovalStatus::Cancelled,
            Status::Approved
            | Status::Active
            | Status::Completed
            | Status::Expired
            | Status::Revoked => ApprovalStatus::Approved,
        }
    }
}

impl FromStr for ApprovalStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApprovalStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown approval status {s:?}"))
    }
}

/// The session an approval is about, as the queue shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalSubject {
    pub id: WorkSessionId,
    pub purpose: String,
    pub status: Status,
    pub assignee: UserRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<i64>,
}

/// One entry of the approvals queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    /// For `work_session`, the session's own id; for `extension`, the request's.
    pub id: Uuid,
    pub kind: ApprovalKind,
    pub status: ApprovalStatus,
    pub work_session: ApprovalSubject,
    pub requested_by: UserRef,
    pub requested_at: DateTime<Utc>,
    /// For `extension`: what was asked (push back by seconds, or move the expiry to a moment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<ExtendWorkSession>,
    /// For `command`: the command exactly as asked, and the job that ran it once approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandAsk>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<UserRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A single root command waiting for (or given) approval, exactly as it was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandAsk {
    pub servers: Vec<String>,
    /// The shell command line, or the argv joined with spaces for display.
    pub command: String,
    /// The argv, when it was asked without a shell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    /// The run-as user (root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// When it lapses undecided.
    pub expires_at: DateTime<Utc>,
    /// The exec job that ran it (`GET /api/exec/{job}`), once approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_job: Option<Uuid>,
}

/// The answer (202) to an operation that now waits for a human decision; the CLI exits 4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingApproval {
    /// Always `pending_approval`.
    pub status: String,
    pub approval_id: Uuid,
    pub kind: ApprovalKind,
    /// Always 4: the `gate` CLI's exit code for "waiting for a person".
    pub exit_code: i32,
    pub message: String,
    pub next_actions: Vec<String>,
}

impl PendingApproval {
    pub fn new(approval_id: Uuid, kind: ApprovalKind, message: impl Into<String>) -> Self {
        Self {
            status: "pending_approval".to_owned(),
            approval_id,
            kind,
            exit_code: 4,
            message: message.into(),
            next_actions: vec![
                format!("GET /api/approvals/{approval_id}"),
                crate::next_action::describe_approval(approval_id),
            ],
        }
    }
}

/// How many seconds an extension pushes `current` back by, for the self-extension allowance.
pub fn extension_amount_secs(ask: &ExtendWorkSession, current: Option<DateTime<Utc>>) -> i64 {
    match (ask.duration_secs, ask.expires_at, current) {
        (Some(secs), _, _) => secs.max(0),
        (None, Some(until), Some(current)) => (until - current).num_seconds().max(0),
        // Moving a window that has no expiry yet: the lifecycle refuses it anyway.
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_round_trip() {
        for status in ApprovalStatus::ALL {
            assert_eq!(status.as_str().parse::<ApprovalStatus>(), Ok(status));
        }
        for kind in [
            ApprovalKind::WorkSession,
            ApprovalKind::Extension,
            ApprovalKind::Command,
        ] {
            assert_eq!(kind.as_str().parse::<ApprovalKind>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert!("commands".parse::<ApprovalKind>().is_err());
    }

    #[test]
    fn the_amount_of_an_extension_is_what_it_adds() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
        let by = |secs| ExtendWorkSession {
            duration_secs: Some(secs),
            expires_at: None,
        };
        let until = |t| ExtendWorkSession {
            duration_secs: None,
            expires_at: Some(t),
        };
        assert_eq!(extension_amount_secs(&by(600), Some(now)), 600);
        assert_eq!(
            extension_amount_secs(&until(now + chrono::Duration::hours(1)), Some(now)),
            3600
        );
        // Earlier than the current expiry adds nothing (and the lifecycle refuses it).
        assert_eq!(
            extension_amount_secs(&until(now - chrono::Duration::hours(1)), Some(now)),
            0
        );
    }
}
