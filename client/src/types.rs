//! Wire shapes the client needs that `gatehouse-shared` does not hold (yet): the CLI and
//! device sign-in bodies, exactly as the HTTP contract names them.

use chrono::{DateTime, Utc};
use gatehouse_shared::User;
use serde::{Deserialize, Serialize};

/// `POST /api/auth/login` from the command line: answers a bearer secret instead of a cookie.
#[derive(Debug, Clone, Serialize)]
pub struct CliLogin {
    pub username: String,
    pub password: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otp: Option<String>,
    /// Always `"cli"`.
    pub client: &'static str,
}

/// A CLI sign-in: the `ghs_` bearer secret, whom it is for and when it expires.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CliSignIn {
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    pub user: User,
}

/// `POST /api/auth/device`.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceStart {
    pub client_name: String,
}

/// The device authorisation (RFC 8628 shapes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: u64,
    pub interval: u64,
}

/// `POST /api/auth/device/token`.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceTokenRequest {
    pub device_code: String,
}
