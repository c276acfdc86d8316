//! The work session: declared purpose, scopes, servers and a time window.

use crate::{Scope, ServerId, UserId, UserRef, WorkSessionId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a work session is in its lifecycle (docs/design.md, "Work sessions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Approved,
    Active,
    Completed,
    Expired,
    Revoked,
    Rejected,
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Pending,
        Status::Approved,
        Status::Active,
        Status::Completed,
        Status::Expired,
        Status::Revoked,
        Status::Rejected,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Active => "active",
            Status::Completed => "completed",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
            Status::Rejected => "rejected",
            Status::Cancelled => "cancelled",
        }
    }

    /// A terminal status never changes again.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Status::Pending | Status::Approved | Status::Active)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown status {s:?}"))
    }
}

/// A server as named inside a work session.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerRef {
    pub id: ServerId,
    pub name: String,
}

/// What an approver took away when approving: kept so the requester sees the narrowing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Adjustments {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_removed: Vec<Scope>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers_removed: Vec<String>,
    /// Root command patterns the approver dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sudo_commands_removed: Vec<String>,
    /// Tunnel ports the approver dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tunnel_ports_removed: Vec<u16>,
}

impl Adjustments {
    pub fn is_empty(&self) -> bool {
        self.scopes_removed.is_empty()
            && self.servers_removed.is_empty()
            && self.sudo_commands_removed.is_empty()
            && self.tunnel_ports_removed.is_empty()
    }
}

/// A work session as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkSession {
    pub id: WorkSessionId,
    pub purpose: String,
    pub status: Status,
    pub scopes: Vec<Scope>,
    pub servers: Vec<ServerRef>,
    /// Root commands the session allows (command patterns, as for token ACLs); when any are
    /// declared, every root command must match one (`sudo` is implied). Omitted when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sudo_commands: Vec<String>,
    /// Ports the session's tunnels may reach; omitted when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tunnel_ports: Vec<u16>,
    pub requested_by: UserRef,
    pub assignee: UserRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<UserRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustments: Option<Adjustments>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
}

/// Why a work session authorizes nothing at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// Pending approval, or approved and not started.
    NotActiveYet,
    /// Its window has passed (whether or not the scheduler has marked it yet).
    Expired,
    /// Completed, revoked, rejected or cancelled.
    Ended,
}

impl WorkSession {
    /// The one rule for "may this session authorize anything now": the gate refuses with it
    /// and the gateway's watcher ends live channels with it.
    pub fn usable_at(&self, now: DateTime<Utc>) -> Result<(), Unusable> {
        let past_window = matches!(self.status, Status::Active | Status::Approved)
            && self.expires_at.is_some_and(|e| e <= now);
        if self.status == Status::Expired || past_window {
            return Err(Unusable::Expired);
        }
        match self.status {
            Status::Active => Ok(()),
            Status::Pending | Status::Approved => Err(Unusable::NotActiveYet),
            _ => Err(Unusable::Ended),
        }
    }

    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    pub fn has_server(&self, name: &str) -> bool {
        self.servers.iter().any(|s| s.name == name)
    }

    /// The next moment at which the scheduler must look at this session, if any:
    /// its start time while approved, its expiry while not terminal.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        if self.status.is_terminal() {
            return None;
        }
        let start = match self.status {
            Status::Approved => self.starts_at,
            _ => None,
        };
        match (start, self.expires_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether `user` is the one the session was requested by.
    pub fn is_requested_by(&self, user: UserId) -> bool {
        self.requested_by.id == user
    }
}

/// `POST /api/work-sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWorkSession {
    /// What you intend to do: not blank, at most 1000 characters.
    #[cfg_attr(feature = "openapi", schema(max_length = 1000, pattern = r"\S"))]
    pub purpose: String,
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub scopes: Vec<Scope>,
    /// Server names (at most 1000).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Vec<crate::server::ServerName>, min_items = 1, max_items = 1000)
    )]
    pub servers: Vec<String>,
    /// When the window closes; give this or `duration_secs`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub expires_at: Option<DateTime<Utc>>,
    /// Seconds, from 60 to the workspace's longest window; give this or `expires_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, nullable = false))]
    pub duration_secs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    /// Username of the person who will use the session; defaults to the requester.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Root commands to allow, as command patterns (`systemctl restart nginx`, `apt-get
    /// install *`); declaring any implies the `sudo` scope, and every root command must then
    /// match one. At most 100, each at most 1000 characters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sudo_commands: Vec<String>,
    /// Ports tunnels may reach (1 to 65535, at most 100).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tunnel_ports: Vec<u16>,
}

/// `POST /api/work-sessions/{id}/approve`: may only narrow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApproveWorkSession {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<Scope>>,
    /// Server names to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<Vec<String>>,
    /// Root command patterns to keep (each one requested; at least one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sudo_commands: Option<Vec<String>>,
    /// Tunnel ports to keep (each one requested; at least one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_ports: Option<Vec<u16>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Body of reject and revoke.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DecisionReason {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl DecisionReason {
    /// The reason without surrounding blanks; a blank one is no reason.
    pub fn trimmed(self) -> Option<String> {
        self.reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty())
    }
}

/// `POST /api/work-sessions/{id}/extend`: one of the two.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExtendWorkSession {
    /// Seconds from now; give this or `expires_at`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub duration_secs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub expires_at: Option<DateTime<Utc>>,
}

/// One entry of a work session's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// Dotted event name, e.g. `work_session.approved`, `gate.denied`, `websh.opened`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    pub outcome: String,
    /// What was acted on (a session id, a path, a terminal id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The server it happened on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    pub details: serde_json::Value,
}

/// Limits on what a request may declare.
pub const MAX_PURPOSE_LEN: usize = 1000;
pub const MAX_SERVERS_PER_SESSION: usize = 1000;
pub const MAX_REASON_LEN: usize = 1000;
/// Most root command patterns a session may declare, and the longest one.
pub const MAX_SUDO_COMMANDS: usize = 100;
pub const MAX_SUDO_COMMAND_LEN: usize = 1000;
/// Most tunnel ports a session may declare.
pub const MAX_TUNNEL_PORTS: usize = 100;
