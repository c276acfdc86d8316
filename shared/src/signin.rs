//! Sign-ins as a person sees them: the `gate` CLI's password and device sign-in (RFC 8628), and
//! the list of one's browser and CLI sign-ins with their client, address and times.

use crate::User;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The prefix of a CLI sign-in's bearer secret (never an API token's).
pub const CLI_SIGNIN_PREFIX: &str = "ghs_";

/// Longest client name a device request may carry (shown to the approver).
pub const MAX_CLIENT_NAME_LEN: usize = 100;

/// Which client a sign-in belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SigninClient {
    /// The web console (a cookie).
    Browser,
    /// The `gate` command line (a `ghs_` bearer secret).
    Cli,
}

impl SigninClient {
    pub fn as_str(self) -> &'static str {
        match self {
            SigninClient::Browser => "browser",
            SigninClient::Cli => "cli",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "browser" => Some(SigninClient::Browser),
            "cli" => Some(SigninClient::Cli),
            _ => None,
        }
    }
}

/// `POST /api/auth/login` with `client: "cli"`: a bearer secret instead of a cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CliLoginResponse {
    pub user: User,
    /// `ghs_…`, shown once; send it as `Authorization: Bearer`.
    pub access_token: String,
    pub expires_at: DateTime<Utc>,
    #[serde(default)]
    pub must_change_password: bool,
}

/// `POST /api/auth/device`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceRequest {
    /// What the approver is shown, such as `gate on build-07`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
}

/// The answer to a device request (RFC 8628 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceAuthorization {
    /// Secret: only the requesting CLI holds it and polls with it.
    pub device_code: String,
    /// What the person checks in the console, such as `WDJB-MJHT`.
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    /// Seconds to wait between polls.
    pub interval: i64,
}

/// `POST /api/auth/device/token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceTokenRequest {
    pub device_code: String,
}

/// A device request once approved: the CLI sign-in it became.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceToken {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// `GET /api/auth/device?user_code=`: what the console shows before asking to approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingDevice {
    pub user_code: String,
    pub client_name: String,
    /// The address the request came from.
    pub address: String,
    pub requested_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// `POST /api/auth/device/decide`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceDecision {
    pub user_code: String,
    pub approve: bool,
}

/// One of the caller's sign-ins (`GET /api/auth/signins`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signin {
    pub id: Uuid,
    pub client: SigninClient,
    /// The CLI's own name for itself, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    /// The sign-in this request came with.
    pub current: bool,
}

/// Normalises a user code as people type it: case, spaces and dashes do not matter.
/// `None` when what remains is not eight letters of the code alphabet.
pub fn normalise_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == 8 && code.chars().all(|c| USER_CODE_ALPHABET.contains(c)))
        .then(|| format!("{}-{}", &code[..4], &code[4..]))
}

/// Letters only, without vowels (no words) and without ones easily misread: RFC 8628 §6.1.
pub const USER_CODE_ALPHABET: &str = "BCDFGHJKLMNPQRSTVWXZ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_read_as_typed() {
        assert_eq!(
            normalise_user_code("wdjb-mjht").as_deref(),
            Some("WDJB-MJHT")
        );
        assert_eq!(
            normalise_user_code(" WDJB MJHT ").as_deref(),
            Some("WDJB-MJHT")
        );
        assert_eq!(normalise_user_code("WDJBMJH"), None);
        assert_eq!(normalise_user_code("WDJB-MJHA"), None, "a vowel");
        assert_eq!(normalise_user_code("WDJB-MJHT-X"), None);
    }
}
