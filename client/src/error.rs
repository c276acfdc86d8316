//! [`ClientError`]: what can go wrong talking to the server, with the error envelope kept whole
//! so a caller can print it as it came, and the CLI exit code each case maps to.

use crate::exit;
use gatehouse_shared::ErrorCode;
use serde_json::Value;
use std::fmt;

/// A refusal the server answered with its error envelope
/// (`{"ok": false, "error_code", "message", ...}`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// Kept as text: a newer server may answer codes this build does not know.
    pub error_code: String,
    pub message: String,
    pub reason: Option<String>,
    pub next_actions: Vec<String>,
    /// From the `Retry-After` header, else the envelope's `retry_after_secs`.
    pub retry_after_secs: Option<u64>,
    /// The envelope exactly as received (an object), for `--output json`.
    pub envelope: Value,
}

impl ApiError {
    /// Reads an error answer; a body that is not an envelope (a proxy's HTML page) still
    /// becomes one, named after the status.
    pub fn from_response(status: u16, retry_after: Option<u64>, body: &[u8]) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body)
            .ok()
            .filter(|v: &Value| v.get("error_code").is_some_and(Value::is_string));
        let envelope = parsed.unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text: String = text.chars().take(500).collect();
            serde_json::json!({
                "ok": false,
                "error_code": fallback_code(status),
                "message": if text.trim().is_empty() { format!("HTTP {status}") } else { text.trim().to_owned() },
            })
        });
        let text = |key: &str| envelope.get(key).and_then(Value::as_str).map(str::to_owned);
        let next_actions = envelope
            .get("next_actions")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let retry_after_secs =
            retry_after.or_else(|| envelope.get("retry_after_secs").and_then(Value::as_u64));
        ApiError {
            status,
            error_code: text("error_code").unwrap_or_default(),
            message: text("message").unwrap_or_default(),
            reason: text("reason"),
            next_actions,
            retry_after_secs,
            envelope,
        }
    }

    /// The code as this build knows it, if it does.
    pub fn code(&self) -> Option<ErrorCode> {
        serde_json::from_value(Value::String(self.error_code.clone())).ok()
    }

    /// The exit code the contract gives this refusal.
    pub fn exit_code(&self) -> i32 {
        if self.status == 429 || self.status == 503 {
            return exit::BUSY;
        }
        if is_gate_code(&self.error_code) {
            return exit::GATE_DENIED;
        }
        match self.error_code.as_str() {
            // The device flow's "the person said no" is a decision against the caller.
            "access_denied" => exit::DECIDED_AGAINST,
            _ => exit::ERROR,
        }
    }
}

/// A gate denial: the work-session codes, token ACLs, root outside the declared commands, and
/// the step-up the CLI could not answer (`mfa_step_up_required`, `mfa_enrolment_required`).
pub fn is_gate_code(code: &str) -> bool {
    let known: Option<ErrorCode> = serde_json::from_value(Value::String(code.to_owned())).ok();
    match known {
        Some(c) => {
            c.is_gate_denial()
                || c == ErrorCode::MfaStepUpRequired
                || c == ErrorCode::MfaEnrolmentRequired
        }
        // A newer server's work-session code is still the gate's.
        None => code.starts_with("work_session_"),
    }
}

fn fallback_code(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        413 => "payload_too_large",
        429 => "rate_limited",
        503 => "unavailable",
        _ => "internal",
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_code, self.message)?;
        if let Some(reason) = &self.reason {
            write!(f, " ({reason})")?;
        }
        Ok(())
    }
}

/// Everything a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server refused, with its envelope.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The server could not be reached (or the connection broke).
    #[error("cannot reach the server: {0}")]
    Network(String),
    /// The server answered something this client cannot read.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
    /// The client itself is set up wrongly (a bad URL or CA file).
    #[error("{0}")]
    Config(String),
}

impl ClientError {
    /// The exit code the contract gives this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::Api(e) => e.exit_code(),
            ClientError::Network(_) | ClientError::Decode(_) | ClientError::Config(_) => {
                exit::ERROR
            }
        }
    }

    /// The refusal, when the server sent one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            ClientError::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The `error_code` to report: the server's, or one naming the local failure.
    pub fn error_code(&self) -> &str {
        match self {
            ClientError::Api(e) => &e.error_code,
            ClientError::Network(_) => "network_error",
            ClientError::Decode(_) => "bad_response",
            ClientError::Config(_) => "config_error",
        }
    }

    /// The error as one envelope object, for `--output json` (the server's own when it sent one).
    pub fn envelope(&self) -> Value {
        match self {
            ClientError::Api(e) => e.envelope.clone(),
            other => serde_json::json!({
                "ok": false,
                "error_code": other.error_code(),
                "message": other.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16, code: &str) -> ClientError {
        let body = serde_json::json!({"ok": false, "error_code": code, "message": "m"});
        ClientError::Api(Box::new(ApiError::from_response(
            status,
            None,
            body.to_string().as_bytes(),
        )))
    }

    #[test]
    fn exit_codes_follow_the_contract() {
        for code in [
            "work_session_required",
            "work_session_not_active",
            "work_session_expired",
            "work_session_scope_not_allowed",
            "work_session_server_not_allowed",
            "work_session_assignee_mismatch",
            "work_session_not_usable",
            "token_acl_denied",
            "sudo_command_not_allowed",
            "work_session_from_a_newer_server",
        ] {
            assert_eq!(refusal(403, code).exit_code(), exit::GATE_DENIED, "{code}");
        }
        assert_eq!(
            refusal(401, "mfa_step_up_required").exit_code(),
            exit::GATE_DENIED
        );
        assert_eq!(refusal(429, "rate_limited").exit_code(), exit::BUSY);
        assert_eq!(refusal(503, "unavailable").exit_code(), exit::BUSY);
        assert_eq!(
            refusal(400, "access_denied").exit_code(),
            exit::DECIDED_AGAINST
        );
        for (status, code) in [
            (403, "forbidden"),
            (401, "unauthenticated"),
            (404, "not_found"),
            (409, "invalid_transition"),
            (400, "validation_error"),
            (400, "expired_token"),
            (500, "internal"),
        ] {
            assert_eq!(refusal(status, code).exit_code(), exit::ERROR, "{code}");
        }
        assert_eq!(
            ClientError::Network("refused".into()).exit_code(),
            exit::ERROR
        );
    }

    #[test]
    fn a_body_that_is_not_an_envelope_still_becomes_one() {
        let e = ApiError::from_response(503, Some(7), b"<html>busy</html>");
        assert_eq!(e.error_code, "unavailable");
        assert_eq!(e.retry_after_secs, Some(7));
        assert_eq!(e.exit_code(), exit::BUSY);
        assert_eq!(e.envelope["ok"], false);
    }

    #[test]
    fn retry_after_comes_from_the_header_or_the_envelope() {
        let body = br#"{"ok":false,"error_code":"rate_limited","message":"slow","retry_after_secs":9,"next_actions":["gate x"]}"#;
        assert_eq!(
            ApiError::from_response(429, None, body).retry_after_secs,
            Some(9)
        );
        let e = ApiError::from_response(429, Some(3), body);
        assert_eq!(e.retry_after_secs, Some(3));
        assert_eq!(e.next_actions, ["gate x"]);
        assert_eq!(e.code(), Some(ErrorCode::RateLimited));
    }
}
