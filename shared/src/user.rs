//! Users and roles.

use crate::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a user may do. Ordered: a higher role includes everything a lower one may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reaches only the servers assigned to them (directly or through groups).
    Member,
    /// Manages servers, users and groups; reads all audit.
    Staff,
    /// Everything, including approvals and workspace settings.
    Superuser,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Staff => "staff",
            Role::Superuser => "superuser",
        }
    }

    /// Staff and superusers administer servers, users and groups.
    pub fn is_staff_or_above(self) -> bool {
        self >= Role::Staff
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "member" => Ok(Role::Member),
            "staff" => Ok(Role::Staff),
            "superuser" => Ok(Role::Superuser),
            other => Err(format!(
                "unknown role {other:?}; expected member, staff or superuser"
            )),
        }
    }
}

/// A short reference to a user, as embedded in other objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRef {
    pub id: UserId,
    pub username: String,
}

/// A user as the API shows it. Never carries a password hash or TOTP secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub mfa_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

/// Usernames: 1–64 characters of letters, digits, `.`, `_`, `-`, `@`.
pub fn is_valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

/// The smallest password length the server accepts.
pub const MIN_PASSWORD_LEN: usize = 12;
/// The largest, so hashing cost cannot be abused.
pub const MAX_PASSWORD_LEN: usize = 1024;
