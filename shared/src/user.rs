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
    /// The account this person runs as on servers when an operation names none.
    #[serde(default)]
    pub unix_user: String,
    /// A disabled person cannot sign in, and their tokens do not work.
    #[serde(default)]
    pub disabled: bool,
    /// Set by a staff password reset: until the person chooses a new password, their sign-in
    /// can do nothing else (the server answers `password_change_required`).
    #[serde(default)]
    pub must_change_password: bool,
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

/// The longest server account name (useradd's limit).
pub const MAX_UNIX_USER_LEN: usize = 32;

/// System accounts a derived name must never land on: a Gatehouse user called `root` or `daemon`
/// is not that account on the server.
const SYSTEM_ACCOUNTS: &[&str] = &[
    "root",
    "daemon",
    "bin",
    "sys",
    "sync",
    "games",
    "man",
    "lp",
    "mail",
    "news",
    "uucp",
    "proxy",
    "www-data",
    "backup",
    "list",
    "irc",
    "gnats",
    "nobody",
    "nogroup",
    "messagebus",
    "sshd",
    "syslog",
    "ntp",
    "postgres",
    "mysql",
    "redis",
    "docker",
    "admin",
    "adm",
    "operator",
    "halt",
    "shutdown",
    "ftp",
    "dbus",
    "polkitd",
    "tss",
    "uuidd",
    "tcpdump",
    "lxd",
    "pollinate",
];

/// A server account name: a lowercase letter or `_`, then up to 31 lowercase letters, digits,
/// `_` or `-` (the portable subset of what useradd accepts).
pub fn is_valid_unix_user(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && name.len() <= MAX_UNIX_USER_LEN
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
}

/// Whether `name` is a system account a person's own account may never be.
pub fn is_system_account(name: &str) -> bool {
    SYSTEM_ACCOUNTS.contains(&name) || name.starts_with("systemd-") || name.starts_with('_')
}

/// The server account derived from a username: lowercased, anything outside `[a-z0-9_-]`
/// turned into `_`, a leading digit or `-` prefixed with `u`, cut to 32 characters, and a name
/// that would be a system account prefixed with `gh-`. Always valid, never a system account.
pub fn derive_unix_user(username: &str) -> String {
    let mut name: String = username
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert(0, 'u');
    }
    if is_system_account(&name) {
        name.insert_str(0, "gh-");
    }
    name.truncate(MAX_UNIX_USER_LEN);
    name
}

#[cfg(test)]
mod unix_user_tests {
    use super::*;

    #[test]
    fn derived_names_are_valid_and_never_system_accounts() {
        for (username, derived) in [
            ("alice", "alice"),
            ("Alice.Smith@example.com", "alice_smith_example_com"),
            ("root", "gh-root"),
            ("ROOT", "gh-root"),
            ("nobody", "gh-nobody"),
            ("systemd-network", "gh-systemd-network"),
            ("_apt", "u_apt"),
            ("007", "u007"),
            ("-x", "u-x"),
            ("a".repeat(64).as_str(), "a".repeat(32).as_str()),
        ] {
            let name = derive_unix_user(username);
            assert_eq!(name, derived, "{username}");
            assert!(is_valid_unix_user(&name), "{name}");
            assert!(!is_system_account(&name), "{name}");
        }
    }

    #[test]
    fn account_names_follow_the_portable_rule() {
        for good in ["alice", "_svc", "deploy-2", "a"] {
            assert!(is_valid_unix_user(good), "{good}");
        }
        for bad in [
            "",
            "Alice",
            "1abc",
            "-x",
            "a b",
            "a.b",
            "é",
            &"a".repeat(33),
        ] {
            assert!(!is_valid_unix_user(bad), "{bad}");
        }
    }
}
