//! TCP tunnels (docs/protocol.md, "Tunnel stream"): the API's request and list shapes, the
//! client ↔ gateway stream `WS /ws/tunnels/{id}`, and the one allow-list rule (`host:port`,
//! `*` for any port) that the server entry's `tunnel_allow` and the agent's `--tunnel-allow` share.

use crate::{ServerId, UserRef, WorkSessionId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Bumped on any incompatible change of the tunnel stream; sent in `hello`.
pub const VERSION: u32 = 1;
/// Bytes of one TCP connection that may be in flight, each way, before the far end credits
/// more: large enough to keep a loopback or LAN path full at gigabit speeds and beyond.
pub const WINDOW: u64 = 4 * 1024 * 1024;
/// The largest data payload of one frame, on the tunnel stream and on the agent link.
pub const CHUNK: usize = 256 * 1024;
/// The most connections one tunnel carries at once; more are refused (`open_failed`).
pub const MAX_CONNECTIONS: usize = 256;
/// The rule a server entry's `tunnel_allow` holds when staff never set one.
pub const DEFAULT_SERVER_ALLOW: &[&str] = &["127.0.0.1:*"];
/// The rules an agent holds when run without `--tunnel-allow`: loopback only.
pub const DEFAULT_AGENT_ALLOW: &[&str] = &["127.0.0.1:*", "[::1]:*", "localhost:*"];
/// The agent announces this capability in `hello` when it serves tunnel connections.
pub const CAPABILITY: &str = "tunnel";

/// Close codes of the tunnel stream (the same numbers as the terminal's where they agree).
pub mod close {
    pub use crate::websh::close::{
        GATE_DENIED, MALFORMED, NOT_FOUND, TOO_BIG, UNAUTHENTICATED, WORK_SESSION_ENDED,
    };
    /// The tunnel was ended (`DELETE /api/tunnels/{id}`, or by staff): do not reconnect.
    pub const ENDED: u16 = 4011;
    /// A newer carrier for the same tunnel took over.
    pub const REPLACED: u16 = 4009;
}

/// `POST /api/tunnels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTunnel {
    /// Server name.
    pub server: String,
    pub remote_port: u16,
    /// The host the agent connects to (default `127.0.0.1`): the server itself, or another
    /// host on its network when the server entry's `tunnel_allow` lists it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_host: Option<String>,
}

/// The answer to `POST /api/tunnels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TunnelCreated {
    pub id: Uuid,
    pub ws_path: String,
    pub remote_host: String,
    pub remote_port: u16,
}

/// A live tunnel as `GET /api/tunnels` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TunnelView {
    pub id: Uuid,
    pub owner: UserRef,
    pub server_id: ServerId,
    pub server: String,
    pub remote_host: String,
    pub remote_port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_session: Option<WorkSessionId>,
    pub created_at: DateTime<Utc>,
    /// A client's stream is attached now.
    pub carrier_connected: bool,
    /// Connections open now, and ever opened.
    pub connections_open: u64,
    pub connections_total: u64,
    /// Bytes from the client to the remote service, and back.
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// Client → gateway control messages (text frames).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Opens connection `conn` (a number the client picks, unique on this stream) to the
    /// tunnel's target; `peer` is the local address that connected to the client (audited).
    Open {
        conn: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer: Option<String>,
    },
    /// The client has consumed `conn`'s bytes before `offset`: the gateway may send up to
    /// `offset + WINDOW`.
    Credit { conn: u32, offset: u64 },
    /// Aborts `conn` (the local side reset or the client gave up on it).
    Close { conn: u32 },
}

/// Gateway → client control messages (text frames).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ServerMessage {
    Hello {
        version: u32,
        tunnel: Uuid,
        remote_host: String,
        remote_port: u16,
    },
    /// The agent connected `conn` to the target.
    Opened { conn: u32 },
    /// `conn` could not be opened (refused by the target or by the agent's `--tunnel-allow`).
    OpenFailed { conn: u32, message: String },
    /// The remote end has written `conn`'s bytes before `offset`: the client may send up to
    /// `offset + WINDOW`.
    Credit { conn: u32, offset: u64 },
    /// `conn` is over, both ways; `error` when it ended abnormally (reset, protocol).
    Closed {
        conn: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// The tunnel ended (its session, its token, or someone ended it); a close follows.
    End { reason: String },
}

/// Bytes before the payload of a data frame: the connection number, big-endian.
pub const FRAME_HEADER: usize = 4;

/// Builds a data frame for `conn`; an empty payload is that direction's end of stream
/// (half-close).
pub fn encode_frame(conn: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_HEADER + payload.len());
    out.extend_from_slice(&conn.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Splits a data frame into its connection and payload.
pub fn decode_frame(frame: &[u8]) -> Option<(u32, &[u8])> {
    let head: [u8; FRAME_HEADER] = frame.get(..FRAME_HEADER)?.try_into().ok()?;
    Some((u32::from_be_bytes(head), &frame[FRAME_HEADER..]))
}

/// One `host:port` allow rule: `port` `None` is `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowRule {
    pub host: String,
    pub port: Option<u16>,
}

/// The largest number of rules a server entry's `tunnel_allow` may hold.
pub const MAX_ALLOW_RULES: usize = 64;

/// Parses `host:port` or `host:*` (IPv6 in brackets: `[::1]:5432`). The host is kept as
/// written, lowercased; `*` as a host is refused: a rule names its host.
pub fn parse_rule(text: &str) -> Result<AllowRule, String> {
    let text = text.trim();
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("{text:?} is not host:port (use host:* for any port)"))?;
    let host = normalize_host(host)?;
    let port = match port {
        "*" => None,
        p => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("{text:?}: the port must be 1-65535 or *"))?,
        ),
    };
    Ok(AllowRule { host, port })
}

/// A target host as rules compare it: lowercased, IPv6 brackets dropped; refused when empty,
/// a wildcard, or holding characters no host name or address has.
pub fn normalize_host(host: &str) -> Result<String, String> {
    let host = host.trim();
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ok = !bare.is_empty()
        && bare.len() <= 253
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
    if !ok {
        return Err(format!("{host:?} is not a host name or address"));
    }
    Ok(bare.to_ascii_lowercase())
}

/// Whether `rules` allow `host:port` (the host as [`normalize_host`] gives it).
pub fn allows(rules: &[AllowRule], host: &str, port: u16) -> bool {
    rules
        .iter()
        .any(|r| r.host == host && r.port.is_none_or(|p| p == port))
}

/// Parses a whole list; the first bad rule is the error.
pub fn parse_rules<S: AsRef<str>>(texts: &[S]) -> Result<Vec<AllowRule>, String> {
    texts.iter().map(|t| parse_rule(t.as_ref())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_match_host_and_port() {
        let rules = parse_rules(&["127.0.0.1:*", "10.0.0.5:5432", "[::1]:80", "DB.lan:6379"])
            .expect("rules");
        assert!(allows(&rules, "127.0.0.1", 1));
        assert!(allows(&rules, "10.0.0.5", 5432));
        assert!(!allows(&rules, "10.0.0.5", 5433));
        assert!(allows(&rules, "::1", 80));
        assert!(allows(&rules, "db.lan", 6379));
        assert!(!allows(&rules, "10.0.0.6", 5432));
        assert!(!allows(&rules, "localhost", 22));
    }

    #[test]
    fn bad_rules_are_refused() {
        for bad in [
            "", "host", "*:*", "h:0", "h:70000", "h:x", "a b:1", "h/x:1", ":80",
        ] {
            assert!(parse_rule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn frames_round_trip_and_empty_is_end_of_stream() {
        let f = encode_frame(7, b"abc");
        assert_eq!(decode_frame(&f), Some((7, &b"abc"[..])));
        assert_eq!(decode_frame(&encode_frame(9, b"")), Some((9, &b""[..])));
        assert_eq!(decode_frame(b"ab"), None);
    }

    #[test]
    fn messages_are_tagged() {
        let m = ClientMessage::Credit { conn: 3, offset: 9 };
        let json = serde_json::to_value(&m).expect("json");
        assert_eq!(json["t"], "credit");
        let m: ServerMessage = serde_json::from_str(r#"{"t":"closed","conn":1}"#).expect("closed");
        assert_eq!(
            m,
            ServerMessage::Closed {
                conn: 1,
                error: None
            }
        );
    }
}
