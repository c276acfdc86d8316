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
    pub created_at: DateTime<Utc>,
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
