//! The one error type of the API and its single mapping to HTTP responses.
//!
//! Handlers return `Result<_, ApiError>`; database errors are logged and become a bare
//! `internal` envelope, so internals never reach clients.

use crate::core::stepup::StepUp;
use crate::core::CoreError;
use crate::store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_shared::error::FieldError;
use gatehouse_shared::gate::GateDenial;
use gatehouse_shared::lifecycle::Refusal;
use gatehouse_shared::{ErrorCode, ErrorEnvelope};

/// An API error: an envelope with the status that goes with its code.
#[derive(Debug)]
pub struct ApiError(pub Box<ErrorEnvelope>);

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(Box::new(ErrorEnvelope::new(code, message)))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self(Box::new(
            ErrorEnvelope::new(ErrorCode::ValidationError, format!("{field}: {message}"))
                .with_field(field, message),
        ))
    }

    pub fn fields(fields: Vec<FieldError>) -> Self {
        let summary: Vec<String> = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect();
        let mut envelope = ErrorEnvelope::new(ErrorCode::ValidationError, summary.join("; "));
        envelope.fields = fields;
        Self(Box::new(envelope))
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self::rate_limited_because(
            "too many failed sign-in attempts; try again later",
            retry_after_secs,
        )
    }

    /// 429 with the reason and how long to wait.
    pub fn rate_limited_because(message: impl Into<String>, retry_after_secs: u64) -> Self {
        let mut envelope = ErrorEnvelope::new(ErrorCode::RateLimited, message);
        envelope.retry_after_secs = Some(retry_after_secs.max(1));
        Self(Box::new(envelope))
    }

    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error")
    }

    pub fn code(&self) -> ErrorCode {
        self.0.error_code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.error_code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.0.retry_after_secs;
        let mut response = (status, Json(*self.0)).into_response();
        if let Some(secs) = retry_after {
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Duplicate => ApiError::conflict("it already exists"),
            err @ (StoreError::Database(_) | StoreError::Corrupt(_)) => {
                tracing::error!(error = %err, "store failure");
                ApiError::internal()
            }
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        match err {
            CoreError::Invalid { field, message } => ApiError::validation(field, message),
            CoreError::NotFound(what) => ApiError::not_found(what),
            CoreError::Conflict(message) => ApiError::conflict(message),
            CoreError::Forbidden(message) => ApiError::forbidden(message),
            CoreError::TokenAclDenied(message) => ApiError::new(ErrorCode::TokenAclDenied, message),
            CoreError::Refused(refusal) => refusal.into(),
            CoreError::Internal(_) => ApiError::internal(),
            CoreError::Store(err) => err.into(),
            CoreError::StepUp(step) => step.into(),
        }
    }
}

impl From<StepUp> for ApiError {
    fn from(step: StepUp) -> Self {
        match step {
            StepUp::EnrolmentRequired => ApiError::new(
                ErrorCode::MfaEnrolmentRequired,
                "this needs two-factor sign-in: enrol an authenticator app (TOTP) on your \
                 Account page first",
            ),
            StepUp::VerifyRequired => {
                let mut envelope = ErrorEnvelope::new(
                    ErrorCode::MfaStepUpRequired,
                    "enter a current code from your authenticator app to confirm it is you, \
                     then try again",
                );
                envelope.next_actions = vec!["POST /api/auth/mfa/verify".to_owned()];
                Self(Box::new(envelope))
            }
        }
    }
}

impl From<Box<GateDenial>> for ApiError {
    fn from(denial: Box<GateDenial>) -> Self {
        Self(Box::new((*denial).into()))
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotPermitted(message) => ApiError::forbidden(message),
            Refusal::InvalidTransition { .. } | Refusal::Untimely(_) => {
                ApiError::new(ErrorCode::InvalidTransition, refusal.to_string())
            }
            Refusal::Invalid { field, message } => ApiError::validation(&field, message),
        }
    }
}
