//! Shared terminal links and live-terminal oversight: the bodies of `POST /api/websh/{id}/share`,
//! `POST /api/share/join`, the participant and live-terminal lists, and the rules for link
//! lifetimes and password guessing that the server enforces and the console mirrors.

use crate::{ParticipantId, ShareId, UserRef, WorkSessionId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Shortest, longest and default lifetime of a link.
pub const MIN_EXPIRY_SECS: u64 = 5 * 60;
pub const MAX_EXPIRY_SECS: u64 = 3 * 3600;
pub const DEFAULT_EXPIRY_SECS: u64 = 30 * 60;
/// Wrong passwords after which a link is locked for good.
pub const MAX_FAILED_JOINS: u32 = 10;
/// Longest display name a guest may give.
pub const MAX_GUEST_NAME: usize = 40;
/// How long a join ticket may wait before its WebSocket upgrade.
pub const TICKET_TTL_SECS: i64 = 60;

fn default_read_only() -> bool {
    true
}

/// `POST /api/websh/{id}/share` (the terminal's owner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateShare {
    /// Guests watch only (the default); `false` lets them type.
    #[serde(default = "default_read_only")]
    pub read_only: bool,
    /// Between 300 and 10800; 1800 when absent.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 300, maximum = 10800))]
    pub expires_in_secs: Option<u64>,
}

impl Default for CreateShare {
    fn default() -> Self {
        Self {
            read_only: true,
            expires_in_secs: None,
        }
    }
}

/// The link lifetime a request asks for, or why it is refused.
pub fn expiry_secs(requested: Option<u64>) -> Result<u64, String> {
    let secs = requested.unwrap_or(DEFAULT_EXPIRY_SECS);
    if (MIN_EXPIRY_SECS..=MAX_EXPIRY_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(format!(
            "expires_in_secs must be between {MIN_EXPIRY_SECS} (5 minutes) and {MAX_EXPIRY_SECS} (3 hours)"
        ))
    }
}

/// A new link. `url` carries the link secret in its fragment (`#…`), which browsers never send
/// to a server; `password` is shown this once and stored only as a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareCreated {
    pub id: ShareId,
    pub url: String,
    pub password: String,
    pub read_only: bool,
    pub expires_at: DateTime<Utc>,
}

/// A link as its owner (or staff) sees it later: never its secret or password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareInfo {
    pub id: ShareId,
    pub websh: Uuid,
    pub read_only: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Wrong passwords so far; the link locks at [`MAX_FAILED_JOINS`].
    pub failed_attempts: u32,
    pub locked: bool,
    /// Usable right now: not revoked, locked or expired.
    pub active: bool,
}

/// `POST /api/share/join` (a guest, no account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JoinShare {
    /// The fragment of the link (after `#`).
    pub secret: String,
    pub password: String,
    /// How the guest is shown to the others (printable, at most 40 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Re-joining after a dropped connection: keep the same participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<ParticipantId>,
}

/// A granted join: connect `WS {ws_path}?ticket=<ticket>` within a minute. A ticket opens one
/// connection; to reconnect, join again with `participant` set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Joined {
    pub ws_path: String,
    pub ticket: String,
    pub read_only: bool,
    pub participant: ParticipantId,
    pub name: String,
    pub websh: Uuid,
    pub server: String,
    pub owner: String,
    pub expires_at: DateTime<Utc>,
}

/// A guest's display name, cleaned: control characters dropped, whitespace trimmed, length
/// capped; empty becomes "guest".
pub fn guest_name(requested: Option<&str>) -> String {
    let cleaned: String = requested
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_GUEST_NAME)
        .collect();
    if cleaned.is_empty() {
        "guest".to_owned()
    } else {
        cleaned
    }
}

/// The wait before the next password attempt on a link with `failures` wrong ones so far:
/// doubling from `base_ms`, capped at 64 times it. `None` once the link is locked.
pub fn join_backoff_ms(failures: u32, base_ms: u64) -> Option<u64> {
    match failures {
        0 => Some(0),
        n if n >= MAX_FAILED_JOINS => None,
        n => Some(base_ms.saturating_mul(1 << (n - 1).min(6))),
    }
}

/// How someone takes part in a live terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ParticipantRole {
    Owner,
    Guest,
    /// Staff watching read-only (the owner is told).
    Watcher,
}

/// One participant of a live terminal (several connections of one person count once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Participant {
    pub id: ParticipantId,
    pub name: String,
    pub role: ParticipantRole,
    pub read_only: bool,
    pub since: DateTime<Utc>,
    pub connections: u32,
}

/// `GET /api/websh/live`: a live terminal as oversight sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveTerminal {
    pub id: Uuid,
    pub owner: UserRef,
    pub server: String,
    pub run_as: Option<String>,
    /// The work session it rides on; `null` for a terminal opened with an API token.
    pub work_session: Option<WorkSessionId>,
    pub started_at: DateTime<Utc>,
    pub participants: Vec<Participant>,
    /// Links to it that can still be used.
    pub active_shares: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_defaults_to_thirty_minutes_and_stays_in_range() {
        assert_eq!(expiry_secs(None), Ok(1800));
        assert_eq!(expiry_secs(Some(300)), Ok(300));
        assert_eq!(expiry_secs(Some(10800)), Ok(10800));
        assert!(expiry_secs(Some(299)).is_err());
        assert!(expiry_secs(Some(10801)).is_err());
    }

    #[test]
    fn backoff_doubles_then_caps_and_locks_at_ten() {
        assert_eq!(join_backoff_ms(0, 500), Some(0));
        assert_eq!(join_backoff_ms(1, 500), Some(500));
        assert_eq!(join_backoff_ms(2, 500), Some(1000));
        assert_eq!(join_backoff_ms(7, 500), Some(32_000));
        assert_eq!(join_backoff_ms(9, 500), Some(32_000));
        assert_eq!(join_backoff_ms(10, 500), None);
        assert_eq!(join_backoff_ms(u32::MAX, u64::MAX), None);
    }

    #[test]
    fn guest_names_are_cleaned() {
        assert_eq!(guest_name(None), "guest");
        assert_eq!(guest_name(Some("  \u{1b}[31mBob\n ")), "[31mBob");
        assert_eq!(guest_name(Some(&"x".repeat(100))).len(), MAX_GUEST_NAME);
        assert_eq!(guest_name(Some("\t\r")), "guest");
    }
}
