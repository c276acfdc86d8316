//! The agent ↔ gateway protocol (see `docs/protocol.md`): one WebSocket from the agent, many
//! channels multiplexed on it. Text frames carry JSON control messages; binary frames carry
//! channel data behind a fixed 17-byte header (channel id, kind).

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Bumped on any incompatible change; both ends send it in their first message.
pub const PROTOCOL_VERSION: u32 = 1;
/// The largest WebSocket message either end accepts; larger closes the link with 1009.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// The largest data payload one binary frame carries.
pub const MAX_CHUNK_BYTES: usize = 32 * 1024;
/// Bytes of channel output the agent may send before the gateway grants more credit.
pub const CHANNEL_WINDOW: u64 = 256 * 1024;
/// The read buffer a Gatehouse WebSocket client keeps (the agent's link, `gate`, the tests'
/// client). tungstenite zeroes its unused part before every read, so its 128 KiB default cost a
/// 128 KiB memset per keystroke; 16 KiB holds one TLS record's plaintext, and a bigger message
/// still grows the buffer as it needs.
pub const WS_READ_BUFFER_BYTES: usize = 16 * 1024;
/// How often the gateway pings an idle link; two missed pongs drop it.
pub const KEEPALIVE_SECS: u64 = 15;

/// The largest `FileData` payload (bigger than terminal chunks: bulk transfers want few frames).
pub const FILE_CHUNK_BYTES: usize = 256 * 1024;

/// Unacknowledged file bytes allowed in flight per file channel, in either direction.
pub const FILE_WINDOW: u64 = 4 * 1024 * 1024;

/// A channel on the link: a websh session's id for a PTY, an exec run's id for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelId(pub Uuid);

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A PTY still alive on the agent, reported in `hello` so the gateway can re-attach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivePty {
    pub channel: ChannelId,
    /// Total output bytes the PTY has produced so far.
    pub output_offset: u64,
    pub exited: Option<i32>,
}

/// Control messages from the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum AgentMessage {
    Hello {
        version: u32,
        agent_version: String,
        hostname: String,
        os: String,
        platform: String,
        capabilities: Vec<String>,
        /// Whether the agent runs as root (and so can run commands as other users).
        privileged: bool,
        ptys: Vec<LivePty>,
    },
    /// A channel opened (a PTY or a command is running).
    Opened { channel: ChannelId },
    /// The agent created the server account `user` to open `channel` (`--provision-users`),
    /// and added it to `groups` (those of the server entry's list that the agent allowed).
    Provisioned {
        channel: ChannelId,
        user: String,
        #[serde(default)]
        groups: Vec<String>,
    },
    /// A channel could not be opened; `message` is shown to the user.
    OpenFailed { channel: ChannelId, message: String },
    /// A PTY's shell ended.
    Exited {
        channel: ChannelId,
        code: Option<i32>,
    },
    /// A command finished (or was killed at its timeout).
    ExecDone {
        channel: ChannelId,
        exit_code: Option<i32>,
        timed_out: bool,
        duration_ms: u64,
        /// The signal that ended the command, when one did (`exit_code` is then null).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<i32>,
    },
    /// Stdin credit of an exec channel opened with `stdin`: the agent has written the input
    /// bytes before `offset` to the command; the gateway may send until `offset + CHANNEL_WINDOW`.
    StdinCredit { channel: ChannelId, offset: u64 },
    /// The answer to `FileOpen` (and, for reads and writes, the final `Done` or `Error`).
    FileReply {
        channel: ChannelId,
        reply: crate::files::FileReply,
    },
    /// Write credit: the agent has consumed upload bytes up to `offset`; the gateway may send
    /// until `offset + FILE_WINDOW`.
    FileCredit { channel: ChannelId, offset: u64 },
    /// Tunnel credit: the agent has written the gateway's bytes before `offset` to the TCP
    /// connection; the gateway may send until `offset + tunnel::WINDOW`.
    TunnelCredit { channel: ChannelId, offset: u64 },
    /// A tunnel connection is over both ways (sent after its last `TunnelData`, on the same
    /// queue); `error` when it ended abnormally (reset).
    TunnelClosed {
        channel: ChannelId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
}

/// Control messages from the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum GatewayMessage {
    Welcome {
        version: u32,
        server_name: String,
    },
    OpenPty {
        channel: ChannelId,
        cols: u16,
        rows: u16,
        /// Run-as user; `None` is the agent's own user.
        user: Option<String>,
        env: Vec<(String, String)>,
        /// Whether the gate allowed root (the `sudo` scope). The agent refuses uid 0 without it,
        /// whatever name the user was given by.
        allow_root: bool,
        /// `user` is the person's own account: an agent run with `--provision-users` creates it
        /// when it is missing (and says so with `provisioned`).
        #[serde(default)]
        provision: bool,
        /// Groups a created account joins (the server entry's `provision_groups`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        provision_groups: Vec<String>,
    },
    /// Resend a live PTY's output from `from_offset` (after a reconnect) and keep streaming.
    Attach {
        channel: ChannelId,
        from_offset: u64,
    },
    Resize {
        channel: ChannelId,
        cols: u16,
        rows: u16,
    },
    /// End the channel: kill the shell or command.
    Close {
        channel: ChannelId,
    },
    /// Credit: the gateway has consumed the `stream`'s output before `offset`, so the agent may
    /// send up to `offset + CHANNEL_WINDOW` and forget what lies before `offset`.
    Ack {
        channel: ChannelId,
        stream: OutputStream,
        offset: u64,
    },
    Exec {
        channel: ChannelId,
        /// A shell command line, run with `/bin/sh -c`; empty when `argv` is set.
        command: String,
        /// The program and its arguments, run with `execve` and no shell (the agent resolves a
        /// bare program name through its fixed `PATH`). Takes precedence over `command`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        argv: Option<Vec<String>>,
        /// Start from a clean environment with the fixed `PATH` (API tokens), not the account's.
        #[serde(default)]
        clean_env: bool,
        user: Option<String>,
        env: Vec<(String, String)>,
        timeout_secs: u64,
        allow_root: bool,
        #[serde(default)]
        provision: bool,
        /// Groups a created account joins (the server entry's `provision_groups`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        provision_groups: Vec<String>,
        /// Keep the command's standard input open: binary `Input` frames for this channel are
        /// its bytes (within stdin credit), `stdin_eof` closes it. Otherwise it reads /dev/null.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        stdin: bool,
        /// Run the command on a pseudo-terminal of this size; its output is then one stream,
        /// `stdout`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tty: Option<TtySize>,
    },
    /// Delivers a signal to an exec channel's whole process group.
    Signal {
        channel: ChannelId,
        signal: crate::exec_stream::ExecSignal,
    },
    /// Closes an exec channel's standard input once the input sent before it was written (with
    /// a terminal: writes its end-of-file character).
    StdinEof {
        channel: ChannelId,
    },
    /// Runs one file operation as `user` (agents announce the `files` capability).
    FileOpen {
        channel: ChannelId,
        op: crate::files::FileOp,
        user: Option<String>,
        allow_root: bool,
        /// An API token's file rules (normalised, as `acl::path` matches them) that cover this
        /// operation: every path the agent actually opens, symlinks resolved, must match one.
        /// `None`: no such limit (a work session's operation).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        confine: Option<Vec<String>>,
        #[serde(default)]
        provision: bool,
        /// Groups a created account joins (the server entry's `provision_groups`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        provision_groups: Vec<String>,
    },
    /// The upload of a `Write` is complete: sync and move it into place.
    FileEnd {
        channel: ChannelId,
    },
    /// Opens one TCP connection of a tunnel to `host:port` (agents announce the `tunnel`
    /// capability). The agent checks its own `--tunnel-allow` first and answers `opened` or
    /// `open_failed` with its reason.
    TunnelConnect {
        channel: ChannelId,
        host: String,
        port: u16,
    },
}

/// The size of a command's pseudo-terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtySize {
    pub cols: u16,
    pub rows: u16,
}

/// One output stream of a channel; each has its own offsets and credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputStream {
    Pty,
    Stdout,
    Stderr,
    /// The bytes of a file read.
    File,
    /// The bytes a tunnel connection received from its target.
    Tunnel,
}

impl OutputStream {
    /// The frame kind that carries this stream.
    pub fn kind(self) -> DataKind {
        match self {
            OutputStream::Pty => DataKind::PtyOutput,
            OutputStream::Stdout => DataKind::Stdout,
            OutputStream::Stderr => DataKind::Stderr,
            OutputStream::File => DataKind::FileData,
            OutputStream::Tunnel => DataKind::TunnelData,
        }
    }
}

/// What a binary frame's payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum DataKind {
    /// PTY output (agent → gateway). Output payloads start with their 8-byte big-endian offset.
    PtyOutput = 0,
    /// Command standard output (agent → gateway), offset first.
    Stdout = 1,
    /// Command standard error (agent → gateway), offset first.
    Stderr = 2,
    /// Keystrokes for a PTY, or standard input of an exec channel opened with `stdin`
    /// (gateway → agent).
    Input = 3,
    /// File bytes: agent → gateway for reads (offset-numbered like output), gateway → agent for
    /// writes (offset-numbered too, so a lost frame is detected).
    FileData = 4,
    /// Tunnel connection bytes, both ways, offset-numbered; an empty payload ends that
    /// direction (half-close).
    TunnelData = 5,
}

impl DataKind {
    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            0 => DataKind::PtyOutput,
            1 => DataKind::Stdout,
            2 => DataKind::Stderr,
            3 => DataKind::Input,
            4 => DataKind::FileData,
            5 => DataKind::TunnelData,
            _ => return None,
        })
    }
}

const HEADER: usize = 17;

/// Builds a binary frame: channel id, kind, payload.
pub fn encode_data(channel: ChannelId, kind: DataKind, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(channel.0.as_bytes());
    out.push(kind as u8);
    out.extend_from_slice(payload);
    out
}

/// Builds an output frame of `stream` whose first byte is at `offset`.
pub fn encode_output(
    channel: ChannelId,
    stream: OutputStream,
    offset: u64,
    bytes: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + 8 + bytes.len());
    out.extend_from_slice(channel.0.as_bytes());
    out.push(stream.kind() as u8);
    out.extend_from_slice(&offset.to_be_bytes());
    out.extend_from_slice(bytes);
    out
}

/// Splits a binary frame; `None` when it is too short or of an unknown kind.
pub fn decode_data(frame: &[u8]) -> Option<(ChannelId, DataKind, &[u8])> {
    if frame.len() < HEADER {
        return None;
    }
    let id = Uuid::from_slice(&frame[..16]).ok()?;
    let kind = DataKind::from_byte(frame[16])?;
    Some((ChannelId(id), kind, &frame[HEADER..]))
}

/// Splits a PTY output payload into its offset and bytes.
pub fn split_offset(payload: &[u8]) -> Option<(u64, &[u8])> {
    let head: [u8; 8] = payload.get(..8)?.try_into().ok()?;
    Some((u64::from_be_bytes(head), &payload[8..]))
}

/// Environment variables that must never be passed into a shell or command from outside:
/// they change what the dynamic loader or the shell itself executes.
pub fn is_dangerous_env(name: &str) -> bool {
    name.starts_with("LD_")
        || name.starts_with("DYLD_")
        || matches!(
            name,
            "BASH_ENV" | "ENV" | "PROMPT_COMMAND" | "IFS" | "PATH" | "SHELLOPTS" | "PS4"
        )
        || name.starts_with("BASH_FUNC_")
        || name.is_empty()
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let ch = ChannelId(Uuid::new_v4());
        let f = encode_output(ch, OutputStream::Pty, 4242, b"hello");
        let (c, k, p) = decode_data(&f).unwrap();
        assert_eq!((c, k), (ch, DataKind::PtyOutput));
        assert_eq!(split_offset(p), Some((4242, &b"hello"[..])));
        let f = encode_data(ch, DataKind::Input, b"ls\r");
        assert_eq!(decode_data(&f), Some((ch, DataKind::Input, &b"ls\r"[..])));
        assert_eq!(decode_data(&f[..10]), None);
        let mut bad = f.clone();
        bad[16] = 9;
        assert_eq!(decode_data(&bad), None);
    }

    #[test]
    fn loader_and_shell_variables_are_dangerous() {
        for name in [
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "DYLD_INSERT_LIBRARIES",
            "BASH_ENV",
            "PATH",
            "BASH_FUNC_x%%",
            "A B",
            "",
        ] {
            assert!(is_dangerous_env(name), "{name}");
        }
        for name in ["LANG", "TERM", "MY_VAR"] {
            assert!(!is_dangerous_env(name), "{name}");
        }
    }

    #[test]
    fn messages_are_tagged() {
        let m = GatewayMessage::Ack {
            channel: ChannelId(Uuid::nil()),
            stream: OutputStream::Stdout,
            offset: 5,
        };
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["t"], "ack");
        assert_eq!(json["stream"], "stdout");
    }
}
