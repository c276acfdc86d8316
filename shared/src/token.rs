//! API tokens: shown once, stored hashed, expiring, revocable.

use crate::TokenId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A token as listed (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    /// Whose it is (a person, or a service account: `svc:<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<crate::UserRef>,
    /// It belongs to a service account (its secret starts `ghst_`).
    #[serde(default)]
    pub service_account: bool,
}

/// `POST /api/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApiToken {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 366))]
    pub expires_in_days: Option<i64>,
}

/// The new token; `token` is shown here and never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiToken {
    pub id: TokenId,
    pub name: String,
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Prefix of every API token, so leaked tokens are easy to find with secret scanners.
pub const TOKEN_PREFIX: &str = "gh_";
/// Prefix of a service account's tokens.
pub const SERVICE_TOKEN_PREFIX: &str = "ghst_";
/// Longest token lifetime a user may ask for.
pub const MAX_TOKEN_DAYS: i64 = 366;
