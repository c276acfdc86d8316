//! The error envelope every API error uses, and the catalogue of error codes.

use crate::gate::GateContext;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Every `error_code` the API can return. The seven `work_session_*` codes are gate denials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    ValidationError,
    Unauthenticated,
    MfaRequired,
    Forbidden,
    CsrfRequired,
    NotFound,
    Conflict,
    InvalidTransition,
    PayloadTooLarge,
    RateLimited,
    Internal,
    WorkSessionRequired,
    WorkSessionNotActive,
    WorkSessionExpired,
    WorkSessionScopeNotAllowed,
    WorkSessionServerNotAllowed,
    WorkSessionAssigneeMismatch,
    WorkSessionNotUsable,
    /// An API token's ACLs do not allow the operation (tokens are denied by default).
    TokenAclDenied,
    /// The operation needs a one-time code verified recently on this sign-in
    /// (`POST /api/auth/mfa/verify`, then retry).
    MfaStepUpRequired,
    /// The operation needs MFA and the caller has none: enrol TOTP on the Account page first.
    MfaEnrolmentRequired,
    /// The sign-in's password was reset by staff: change it before doing anything else.
    PasswordChangeRequired,
    /// A root operation outside the work session's declared `sudo_commands` (a gate denial;
    /// `request_approval` asks a superuser to approve the one command instead).
    SudoCommandNotAllowed,
    /// A tunnel's target is outside what the work session declared (`tunnel_ports`) or what the
    /// server entry allows (`tunnel_allow`): a gate denial.
    TunnelNotAllowed,
    /// Device sign-in (RFC 8628): nobody has approved or denied the code yet; poll again.
    AuthorizationPending,
    /// Device sign-in: polled faster than `interval`; wait five seconds more between polls.
    SlowDown,
    /// Device sign-in: the code expired or was already used; start again.
    ExpiredToken,
    /// Device sign-in: the person denied it.
    AccessDenied,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::ValidationError => "validation_error",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::MfaRequired => "mfa_required",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::CsrfRequired => "csrf_required",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::WorkSessionRequired => "work_session_required",
            ErrorCode::WorkSessionNotActive => "work_session_not_active",
            ErrorCode::WorkSessionExpired => "work_session_expired",
            ErrorCode::WorkSessionScopeNotAllowed => "work_session_scope_not_allowed",
            ErrorCode::WorkSessionServerNotAllowed => "work_session_server_not_allowed",
            ErrorCode::WorkSessionAssigneeMismatch => "work_session_assignee_mismatch",
            ErrorCode::WorkSessionNotUsable => "work_session_not_usable",
            ErrorCode::TokenAclDenied => "token_acl_denied",
            ErrorCode::MfaStepUpRequired => "mfa_step_up_required",
            ErrorCode::MfaEnrolmentRequired => "mfa_enrolment_required",
            ErrorCode::PasswordChangeRequired => "password_change_required",
            ErrorCode::SudoCommandNotAllowed => "sudo_command_not_allowed",
            ErrorCode::TunnelNotAllowed => "tunnel_not_allowed",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::AccessDenied => "access_denied",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn http_status(self) -> u16 {
        match self {
            // RFC 8628 answers a device-code poll that has no token yet with 400.
            ErrorCode::BadRequest
            | ErrorCode::ValidationError
            | ErrorCode::AuthorizationPending
            | ErrorCode::SlowDown
            | ErrorCode::ExpiredToken
            | ErrorCode::AccessDenied => 400,
            ErrorCode::Unauthenticated | ErrorCode::MfaRequired | ErrorCode::MfaStepUpRequired => {
                401
            }
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict | ErrorCode::InvalidTransition => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            // Listed one by one, with no catch-all: a new code must choose its status here.
            ErrorCode::Forbidden
            | ErrorCode::CsrfRequired
            | ErrorCode::WorkSessionRequired
            | ErrorCode::WorkSessionNotActive
            | ErrorCode::WorkSessionExpired
            | ErrorCode::WorkSessionScopeNotAllowed
            | ErrorCode::WorkSessionServerNotAllowed
            | ErrorCode::WorkSessionAssigneeMismatch
            | ErrorCode::WorkSessionNotUsable
            | ErrorCode::TokenAclDenied
            | ErrorCode::MfaEnrolmentRequired
            | ErrorCode::PasswordChangeRequired
            | ErrorCode::SudoCommandNotAllowed
            | ErrorCode::TunnelNotAllowed => 403,
        }
    }

    /// True for the gate codes, which the CLI maps to exit code 3.
    pub fn is_gate_denial(self) -> bool {
        self.http_status() == 403 && self.as_str().starts_with("work_session_")
            || self == ErrorCode::TokenAclDenied
            || self == ErrorCode::SudoCommandNotAllowed
            || self == ErrorCode::TunnelNotAllowed
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem with one field of a request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// `{"ok": false, "error_code": ..., "message": ..., ...}`: the body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorEnvelope {
    pub ok: bool,
    pub error_code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<GateContext>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// Seconds to wait before retrying (with `rate_limited`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl ErrorEnvelope {
    pub fn new(error_code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            ok: false,
            error_code,
            message: message.into(),
            reason: None,
            context: None,
            next_actions: Vec::new(),
            fields: Vec::new(),
            retry_after_secs: None,
        }
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn with_field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.fields.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
        self
    }
}

impl fmt::Display for ErrorEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_code, self.message)?;
        if let Some(reason) = &self.reason {
            write!(f, " ({reason})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ErrorEnvelope {}
