//! [`CliError`]: a failure as `gate` reports it, an error envelope and the exit code the
//! contract gives it (`gatehouse_client::exit`).

use gatehouse_client::{exit, ClientError};
use serde_json::{json, Value};

/// A failed command: what to print (an envelope object) and how to exit.
#[derive(Debug)]
pub struct CliError {
    pub exit_code: i32,
    /// `{"ok": false, "error_code", "message", ...}`: the server's own when it sent one.
    pub envelope: Value,
}

impl CliError {
    fn new(exit_code: i32, code: &str, message: impl Into<String>) -> Self {
        CliError {
            exit_code,
            envelope: json!({"ok": false, "error_code": code, "message": message.into()}),
        }
    }

    /// Bad usage (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(exit::USAGE, "usage", message)
    }

    /// A local failure or a refusal that is not the gate's (exit 1).
    pub fn failed(code: &str, message: impl Into<String>) -> Self {
        Self::new(exit::ERROR, code, message)
    }

    /// Still waiting for a human (exit 4).
    pub fn pending(message: impl Into<String>, next_actions: Vec<String>) -> Self {
        let mut e = Self::new(exit::PENDING, "pending_approval", message);
        e.envelope["next_actions"] = json!(next_actions);
        e
    }

    /// Decided against the caller (exit 6): do not retry.
    pub fn decided_against(code: &str, message: impl Into<String>) -> Self {
        Self::new(exit::DECIDED_AGAINST, code, message)
    }

    pub fn error_code(&self) -> &str {
        self.envelope["error_code"].as_str().unwrap_or("error")
    }

    pub fn message(&self) -> &str {
        self.envelope["message"].as_str().unwrap_or_default()
    }

    /// The envelope with `exit_code`: what `--output json` prints, as one object.
    pub fn json(&self) -> Value {
        let mut v = self.envelope.clone();
        if let Some(map) = v.as_object_mut() {
            map.insert("exit_code".into(), json!(self.exit_code));
        }
        v
    }
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        CliError {
            exit_code: e.exit_code(),
            envelope: e.envelope(),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::failed("io_error", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_client::ApiError;

    #[test]
    fn json_errors_are_the_envelope_plus_the_exit_code() {
        let body = br#"{"ok":false,"error_code":"work_session_required","message":"no session","next_actions":["gate work-session ls --user me"]}"#;
        let e: CliError =
            ClientError::Api(Box::new(ApiError::from_response(403, None, body))).into();
        assert_eq!(e.exit_code, exit::GATE_DENIED);
        let v = e.json();
        assert_eq!(v["exit_code"], 3);
        assert_eq!(v["error_code"], "work_session_required");
        assert_eq!(v["next_actions"][0], "gate work-session ls --user me");
        assert_eq!(CliError::usage("x").json()["exit_code"], 2);
        assert_eq!(CliError::pending("x", vec![]).exit_code, 4);
        assert_eq!(CliError::decided_against("rejected", "x").exit_code, 6);
        let network: CliError = ClientError::Network("refused".into()).into();
        assert_eq!(network.json()["exit_code"], 1);
        assert_eq!(network.error_code(), "network_error");
    }
}
