//! Managed servers, registration tokens and agent registration.

use crate::{AgentId, ServerId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A managed server as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Server {
    pub id: ServerId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    pub connected: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<DateTime<Utc>>,
    pub groups: Vec<String>,
    /// Server groups (on the machine) that an account the agent creates on first use joins.
    #[serde(default)]
    pub provision_groups: Vec<String>,
    /// `host:port` targets tunnels may reach through this server (`*` for any port); the
    /// default, when staff never set it, is `127.0.0.1:*`.
    #[serde(default)]
    pub tunnel_allow: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// `PATCH /api/servers/{id}` (staff): only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateServer {
    /// Groups on the machine (such as `developers`) that accounts created there on first use
    /// join; the agent refuses system and administrative groups whatever is listed here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 32, nullable = false))]
    pub provision_groups: Option<Vec<String>>,
    /// `host:port` rules (`127.0.0.1:*`, `10.0.0.5:5432`) of what tunnels through this server
    /// may reach; other hosts on its network only when listed. `[]` allows nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 64, nullable = false))]
    pub tunnel_allow: Option<Vec<String>>,
}

/// The most groups a server entry may name for provisioned accounts.
pub const MAX_PROVISION_GROUPS: usize = 32;

/// Groups a provisioned account may never join, whatever a server entry says: membership in
/// any of them is administrative power over the machine.
pub const PRIVILEGED_GROUPS: &[&str] = &[
    "root",
    "sudo",
    "wheel",
    "admin",
    "adm",
    "docker",
    "lxd",
    "libvirt",
    "disk",
    "shadow",
    "staff",
    "kmem",
    "tty",
    "systemd-journal",
];

/// Whether `name` may be listed as a group for provisioned accounts: a valid name that is not
/// an administrative group.
pub fn is_allowed_provision_group(name: &str) -> bool {
    crate::user::is_valid_unix_user(name) && !PRIVILEGED_GROUPS.contains(&name)
}

/// `POST /api/servers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateServer {
    #[cfg_attr(feature = "openapi", schema(value_type = ServerName))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Group names that get this server by explicit grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

/// `POST /api/servers/registration-tokens`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateRegistrationToken {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 2592000))]
    pub expires_in_secs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000))]
    pub max_uses: Option<i64>,
}

/// The registration token, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistrationToken {
    /// Names it for listing and revoking (the secret is shown only here, once).
    #[serde(default)]
    pub id: uuid::Uuid,
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub max_uses: i64,
}

/// An outstanding registration token as staff list it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistrationTokenInfo {
    pub id: uuid::Uuid,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub max_uses: i64,
    pub uses: i64,
}

/// `POST /api/agents/register`, sent by the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentRegistration {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1024))]
    pub registration_token: String,
    #[cfg_attr(feature = "openapi", schema(value_type = ServerName))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 255))]
    pub os: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 255))]
    pub platform: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 255))]
    pub hostname: String,
}

/// The agent's credential, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentCredential {
    pub server_id: ServerId,
    pub agent_id: AgentId,
    pub agent_secret: String,
}

/// Server names: 1–64 characters of letters, digits, `.`, `_`, `-`.
pub fn is_valid_server_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(feature = "openapi")]
string_schema!(
    /// A server name as the description states it: 1–64 letters, digits, `.`, `_`, `-`.
    ServerName,
    pattern = r"^[A-Za-z0-9._-]{1,64}$"
);
