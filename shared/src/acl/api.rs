//! The HTTP shapes of token ACLs (`/api/tokens/{id}/acl/...`) and service accounts
//! (`/api/service-accounts`), shared by the server, the console and the CLI.

use super::FileAction;
use crate::{Scope, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The four kinds of rule, as the path names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Servers,
    Commands,
    Files,
    Tunnels,
}

impl RuleKind {
    pub const ALL: [RuleKind; 4] = [
        RuleKind::Servers,
        RuleKind::Commands,
        RuleKind::Files,
        RuleKind::Tunnels,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Servers => "servers",
            RuleKind::Commands => "commands",
            RuleKind::Files => "files",
            RuleKind::Tunnels => "tunnels",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// `POST /api/tokens/{id}/acl/servers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewServerRule {
    /// A server-name pattern such as `web-*`.
    pub pattern: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerRule {
    pub id: Uuid,
    pub pattern: String,
}

/// `POST /api/tokens/{id}/acl/commands`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCommandRule {
    /// A command pattern: the program, then one word per argument; a final lone `*` for the rest.
    pub command: String,
    /// Omitted: the principal's own account; `*`: any but root; else exactly that account
    /// (`root` only when named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommandRuleView {
    pub id: Uuid,
    pub command: String,
    pub user: Option<String>,
}

/// `POST /api/tokens/{id}/acl/files`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewFileRule {
    /// An absolute path pattern: `*` within one component, a final `**` any depth.
    pub path: String,
    pub action: FileAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileRuleView {
    pub id: Uuid,
    pub path: String,
    pub action: FileAction,
    pub user: Option<String>,
}

/// `POST /api/tokens/{id}/acl/tunnels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTunnelRule {
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 65535))]
    pub port: u16,
    /// Default `127.0.0.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TunnelRuleView {
    pub id: Uuid,
    pub port: u16,
    pub host: String,
}

/// Every rule of one token (`GET /api/tokens/{id}/acl`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenAcl {
    pub servers: Vec<ServerRule>,
    pub commands: Vec<CommandRuleView>,
    pub files: Vec<FileRuleView>,
    pub tunnels: Vec<TunnelRuleView>,
}

/// `POST /api/tokens/{id}/acl/test`: the decision the gate would make, explained.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AclTest {
    pub scope: Option<Scope>,
    pub server: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    /// A command line, split by POSIX word rules (refused on shell metacharacters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<FileAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// A non-human principal: no password, acting only through its own `ghst_` tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceAccount {
    pub id: UserId,
    pub name: String,
    /// The name the audit log shows for it (`svc:<name>`).
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The account its commands run as on servers when a rule names none.
    pub unix_user: String,
    pub created_at: DateTime<Utc>,
    pub disabled: bool,
}

/// `POST /api/service-accounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewServiceAccount {
    /// 1–48 characters of letters, digits, `.`, `_`, `-`.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The audit name of a service account: people's usernames cannot hold a `:`, so nobody can
/// pass for one.
pub fn service_username(name: &str) -> String {
    format!("{SERVICE_PREFIX}{name}")
}

pub const SERVICE_PREFIX: &str = "svc:";

/// Service-account names: 1–48 characters of letters, digits, `.`, `_`, `-`.
pub fn is_valid_service_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 48
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}
