//! The websh stream between a client (console, CLI) and the gateway: docs/protocol.md, "websh".
//! Binary frames carry terminal bytes (server → client: 8-byte big-endian offset first);
//! text frames carry these JSON messages.

use serde::{Deserialize, Serialize};

pub mod flow;

/// Client → server control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ClientMessage {
    Resize {
        cols: u16,
        rows: u16,
    },
    /// Bytes rendered so far (the offset just past the last rendered byte).
    Ack {
        offset: u64,
    },
    Ping,
}

/// Why a terminal ended other than by its shell exiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    Revoked,
    Expired,
    Completed,
    Terminated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeLevel {
    Info,
    Warn,
}

/// Server → client control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ServerMessage {
    Exit {
        code: i32,
    },
    Ended {
        reason: EndReason,
    },
    Notice {
        level: NoticeLevel,
        text: String,
    },
    /// Everyone in the terminal now; sent on attach and whenever it changes.
    Participants {
        items: Vec<crate::share::Participant>,
    },
    Pong,
}

/// `POST /api/websh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpenWebsh {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::server::ServerName))]
    pub server: String,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub cols: u16,
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub rows: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// The opened terminal: connect a WebSocket to `ws_path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenedWebsh {
    pub id: uuid::Uuid,
    pub ws_path: String,
}

/// WebSocket close codes of the websh stream.
pub mod close {
    pub const SHELL_EXITED: u16 = 1000;
    /// A malformed or refused control message.
    pub const MALFORMED: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const UNAUTHENTICATED: u16 = 4001;
    pub const GATE_DENIED: u16 = 4003;
    pub const NOT_FOUND: u16 = 4004;
    pub const WORK_SESSION_ENDED: u16 = 4010;
    pub const TERMINATED: u16 = 4011;
    /// A guest's link was revoked or expired.
    pub const SHARE_ENDED: u16 = 4012;
    /// The owner or staff removed this participant.
    pub const REMOVED: u16 = 4013;
    /// The terminal is alive on its server, but the gateway restarted and the server's agent
    /// has not reconnected yet: retry (with backoff); nothing is lost meanwhile.
    pub const AGENT_PENDING: u16 = 4015;
}

/// Builds a server → client output frame.
pub fn encode_output(offset: u64, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + bytes.len());
    out.extend_from_slice(&offset.to_be_bytes());
    out.extend_from_slice(bytes);
    out
}

/// Splits a server → client output frame into offset and bytes.
pub fn decode_output(frame: &[u8]) -> Option<(u64, &[u8])> {
    crate::agent_link::split_offset(frame)
}

/// Terminal sizes the gateway accepts.
pub fn valid_size(cols: u16, rows: u16) -> bool {
    (1..=1000).contains(&cols) && (1..=1000).contains(&rows)
}
