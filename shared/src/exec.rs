//! Running one command on many servers: `POST /api/exec` and `GET /api/exec/{id}`.

use serde::{Deserialize, Serialize};

/// `POST /api/exec`. `Default` is an empty request, for `..Default::default()` in clients.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExecRequest {
    /// Server names (at most 1000).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Vec<crate::server::ServerName>, min_items = 1, max_items = 1000)
    )]
    pub servers: Vec<String>,
    /// A shell command line: not blank, at most 64 KiB. Exactly one of `command` and `argv`.
    #[cfg_attr(feature = "openapi", schema(max_length = 65536))]
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub command: String,
    /// The program and its arguments, run without a shell (instead of `command`; API tokens
    /// must use it). At most 4096 arguments, 64 KiB in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    /// When the gate would refuse only because a root command is outside the session's
    /// `sudo_commands`, ask a superuser to approve this one command instead (202).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub request_approval: bool,
    /// Run-as user; `root` also needs the `sudo` scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<std::collections::BTreeMap<String, String>>,
    /// Seconds, 1 to 86400 (a day); 300 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 86400))]
    pub timeout_secs: Option<u64>,
    /// Keep the command's standard input open for the stream (`WS /ws/exec/{id}`): binary
    /// frames are its bytes, `{"t":"eof"}` closes it. Only with exactly one server.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stdin: bool,
    /// Run the command on a pseudo-terminal (stdout and stderr then arrive as one stream,
    /// `stdout`); `cols`/`rows` size it (80x24 when absent).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tty: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub cols: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub rows: Option<u16>,
    /// The command is paced by its stream: output waits (within the gateway's buffer) for the
    /// stream's viewer instead of flowing past it, so a viewer that attaches after the start,
    /// or reconnects, misses nothing. Implied by `stdin` and `tty`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
}

impl ExecRequest {
    /// Whether the command is paced by its stream (see `stream`).
    pub fn paced(&self) -> bool {
        self.stream || self.stdin || self.tty
    }
}

/// Where one server's run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    /// Exit code 0.
    Succeeded,
    /// A non-zero exit code.
    Failed,
    TimedOut,
    /// It could not run (agent not connected, bad run-as user, ...); see `error`.
    Error,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::TimedOut => "timed_out",
            RunStatus::Error => "error",
        }
    }
}

/// One server's run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecRun {
    pub server: String,
    pub status: RunStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A command across servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecJob {
    pub id: uuid::Uuid,
    /// The command as asked: the shell line, or the argv joined with spaces for display.
    pub command: String,
    /// The argv, when it ran without a shell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    pub runs: Vec<ExecRun>,
    /// The live stream of the job's output while the gateway holds it: `/ws/exec/{id}`.
    pub stream_path: String,
}

/// Where a job's stream is.
pub fn stream_path(job: uuid::Uuid) -> String {
    format!("/ws/exec/{job}")
}

pub const MAX_COMMAND_LEN: usize = 64 * 1024;
/// Most arguments an argv may hold.
pub const MAX_ARGS: usize = 4096;
pub const DEFAULT_TIMEOUT_SECS: u64 = 300;
pub const MAX_TIMEOUT_SECS: u64 = 24 * 3600;
