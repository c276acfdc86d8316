//! Request and response bodies of the identity, group, gate and list endpoints.

use crate::gate::AuthMethod;
use crate::{GroupId, Role, Scope, User, WorkSession};
use serde::{Deserialize, Serialize};

/// A page of a list: `{"items": [...], "total": N, "next_cursor": "..." | null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub next_cursor: Option<String>,
}

/// Default and largest page sizes.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// `POST /api/setup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9._@-]{1,64}$"))]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 1024))]
    pub password: String,
}

/// `POST /api/auth/login`.
/// `GET /api/setup`: whether the first user still has to be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetupStatus {
    pub needed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp: Option<String>,
    /// `cli`: answer a bearer secret (`CliLoginResponse`) instead of setting a cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<crate::signin::SigninClient>,
    /// With `client: "cli"`: the name the sign-in is listed under, such as `gate on build-07`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
}

/// Result of sign-in (the cookie travels in `Set-Cookie`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    pub user: User,
    pub csrf_token: String,
    /// The password was a one-time one from a reset: choose a new one before anything else.
    #[serde(default)]
    pub must_change_password: bool,
}

/// `GET /api/auth/whoami`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhoAmI {
    pub user: User,
    pub auth_method: AuthMethod,
    pub work_session_required: bool,
    pub active_work_session: Option<WorkSession>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    /// When this sign-in last proved a one-time code (at sign-in or `POST /api/auth/mfa/verify`);
    /// `null` if never (and always for API tokens). Admin operations need it recent (step-up).
    #[serde(default)]
    pub mfa_verified_at: Option<chrono::DateTime<chrono::Utc>>,
    /// After a staff password reset: the console sends the person to choose a new password, and
    /// the server refuses everything else but `whoami`, sign-out and the password change.
    #[serde(default)]
    pub must_change_password: bool,
    /// The workspace requires two-factor sign-in and this person has not enrolled: the console
    /// shows only the enrolment, and the server refuses everything else for this sign-in.
    #[serde(default)]
    pub mfa_enrolment_required: bool,
    /// A person, or a service account behind a service token.
    #[serde(default)]
    pub principal: PrincipalKind,
}

/// Who stands behind a credential.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    #[default]
    User,
    ServiceAccount,
}

/// `POST /api/auth/mfa/totp`: the secret to put in an authenticator app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TotpEnrollment {
    pub secret: String,
    pub otpauth_uri: String,
}

/// `POST /api/auth/mfa/totp/confirm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OtpBody {
    pub otp: String,
}

/// `POST /api/auth/mfa/verify`: a current TOTP code, or one of the account's recovery codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MfaVerify {
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub otp: String,
}

/// The answer of `POST /api/auth/mfa/verify`: when this sign-in's MFA now counts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaVerified {
    pub mfa_verified_at: chrono::DateTime<chrono::Utc>,
    /// Recovery codes left unused (a recovery code was just spent when this went down).
    pub recovery_codes_left: i64,
}

/// `POST /api/auth/mfa/recovery-codes`: ten one-time codes, shown only in this answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// `POST /api/users/{id}/password-reset`: the one-time password, shown only in this answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordReset {
    pub user: User,
    pub one_time_password: String,
    /// How many sign-ins of the person ended.
    pub signins_ended: u64,
}

/// `POST /api/users/{id}/mfa-reset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaReset {
    pub user: User,
    pub signins_ended: u64,
}

/// `POST /api/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9._@-]{1,64}$"))]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 1024))]
    pub password: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "@", max_length = 254))]
    pub email: Option<String>,
    /// The person's own server account (staff); derived from the username when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[a-z_][a-z0-9_-]{0,31}$"))]
    pub unix_user: Option<String>,
}

/// A group and what it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub members: Vec<String>,
    pub server_patterns: Vec<String>,
    /// Shared server accounts the members may run as.
    #[serde(default)]
    pub run_as: Vec<RunAsGrant>,
}

/// `POST /api/groups/{id}/run-as`, and one grant as a group lists it: members may run as
/// `account` on servers matching `pattern` (every server when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunAsGrant {
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[a-z_][a-z0-9_-]{0,31}$"))]
    pub account: String,
    #[serde(default = "every_server")]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9._*?-]{1,128}$"))]
    pub pattern: String,
}

fn every_server() -> String {
    "*".to_owned()
}

/// `POST /api/auth/password`: change one's own password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[cfg_attr(feature = "openapi", schema(max_length = 1024))]
    pub current: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 1024))]
    pub new: String,
}

/// `PATCH /api/users/{id}` (staff): what to change about a person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// A new role (superusers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Disable (`true`: sign-ins, tokens and every live channel end at once) or re-enable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[a-z_][a-z0-9_-]{0,31}$"))]
    pub unix_user: Option<String>,
}

/// Whom an operation on a server would run as, for the console's "Run as" choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunAsChoices {
    /// The caller's own account (the default), or `None` when the server's agent is not root
    /// and so runs everything as its own user.
    pub own: Option<String>,
    /// Shared accounts the caller's groups grant on this server.
    pub granted: Vec<String>,
    /// Whether the agent runs as root, so other accounts (and root, with `sudo`) are possible.
    pub agent_is_root: bool,
}

/// `POST /api/groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9._@-]{1,64}$"))]
    pub name: String,
}

/// `POST /api/groups/{id}/members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddGroupMember {
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9._@-]{1,64}$"))]
    pub username: String,
}

/// `POST /api/groups/{id}/servers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddGroupServers {
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9._*?-]{1,128}$"))]
    pub pattern: String,
}

/// `POST /api/gate/check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GateCheckRequest {
    pub scope: Scope,
    pub server: String,
    /// Run-as user; `root` also needs the `sudo` scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// A gate check that passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GateCheckAllowed {
    pub ok: bool,
    pub work_session: Option<WorkSession>,
}

/// The major version of the HTTP API: a client and a server of the same one understand each
/// other (fields are added within a version, never renamed or removed).
pub const API_VERSION: u32 = 1;

/// `GET /api/version` (no sign-in needed): which release the server runs and which API it speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionInfo {
    /// The server's release (its crate version).
    pub version: String,
    /// The API's major version ([`API_VERSION`]).
    pub api: u32,
}
