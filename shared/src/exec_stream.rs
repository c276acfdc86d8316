//! The exec stream between a client (CLI, console, script) and the gateway, `WS /ws/exec/{id}`:
//! docs/protocol.md, "Exec stream". Binary frames carry output (server → client, behind an
//! 11-byte header naming the run, the stream and the offset) or standard input (client →
//! server, raw bytes); text frames carry these JSON messages.

use serde::{Deserialize, Serialize};

/// The version `hello` announces; bumped on an incompatible change.
pub const VERSION: u32 = 1;
/// Bytes before the output in a server → client binary frame: run (u16), stream (u8), offset (u64).
pub const HEADER: usize = 11;

/// Standard input the gateway holds for a command beyond what it has been given.
pub const STDIN_BUFFER: u64 = 1024 * 1024;

/// Close codes: the websh stream's, with the same meanings (1000 here: every run ended).
pub use crate::websh::close;

/// One output stream of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamName {
    Stdout,
    Stderr,
}

impl StreamName {
    pub const BOTH: [StreamName; 2] = [StreamName::Stdout, StreamName::Stderr];

    fn byte(self) -> u8 {
        match self {
            StreamName::Stdout => 1,
            StreamName::Stderr => 2,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(StreamName::Stdout),
            2 => Some(StreamName::Stderr),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StreamName::Stdout => "stdout",
            StreamName::Stderr => "stderr",
        }
    }
}

/// A signal a client may send to its command (to the whole process group of every run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ExecSignal {
    Int,
    Term,
    Kill,
    Hup,
}

impl ExecSignal {
    /// The name a client sends (`INT`); `SIG` + it is the usual name.
    pub fn name(self) -> &'static str {
        match self {
            ExecSignal::Hup => "HUP",
            ExecSignal::Int => "INT",
            ExecSignal::Kill => "KILL",
            ExecSignal::Term => "TERM",
        }
    }

    /// The signal's number on Linux (and every POSIX system for these four).
    pub fn number(self) -> i32 {
        match self {
            ExecSignal::Hup => 1,
            ExecSignal::Int => 2,
            ExecSignal::Kill => 9,
            ExecSignal::Term => 15,
        }
    }
}

/// Client → server control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Everything of `stream` of run `run` before `offset` was consumed.
    Ack {
        run: u16,
        stream: StreamName,
        offset: u64,
    },
    /// Close the command's standard input (with `tty`: the terminal's end-of-file, Ctrl-D).
    Eof,
    Signal {
        name: ExecSignal,
    },
    /// Resize the pseudo-terminal (`tty` only).
    Resize {
        cols: u16,
        rows: u16,
    },
    Ping,
}

/// A run as the stream names it: `index` is its place in the job's `runs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamRun {
    pub index: u16,
    pub server: String,
    pub run: uuid::Uuid,
}

/// Server → client control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The first message: what the job is and how its runs are numbered.
    Hello {
        version: u32,
        job: uuid::Uuid,
        stdin: bool,
        tty: bool,
        runs: Vec<StreamRun>,
    },
    /// Bytes `from..to` of this stream left the gateway's buffer before this client got them.
    Gap {
        run: u16,
        server: String,
        stream: StreamName,
        from: u64,
        to: u64,
    },
    /// A run ended, after all its output was sent. `code` is the exit code (128 + the signal's
    /// number when a signal ended it); null when it never ran (`error` says why).
    Exit {
        run: u16,
        server: String,
        code: Option<i32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<i32>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        timed_out: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// How long the command ran, as the agent measured it (absent when it never ran).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_ms: Option<u64>,
    },
    /// Every run ended and everything was sent; close 1000 follows.
    Done,
    /// The job's work session (or token) stopped allowing it: its commands were killed.
    Ended {
        reason: crate::websh::EndReason,
    },
    /// The command has been given the standard input before `offset`. A client sends at most
    /// `STDIN_BUFFER` bytes past it; beyond that the gateway stops reading the socket until the
    /// command reads more.
    StdinAck {
        offset: u64,
    },
    /// A frame from the client was refused; a close follows.
    Error {
        message: String,
    },
    Pong,
}

/// Builds a server → client output frame.
pub fn encode_output(run: u16, stream: StreamName, offset: u64, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + bytes.len());
    out.extend_from_slice(&run.to_be_bytes());
    out.push(stream.byte());
    out.extend_from_slice(&offset.to_be_bytes());
    out.extend_from_slice(bytes);
    out
}

/// Splits a server → client output frame.
pub fn decode_output(frame: &[u8]) -> Option<(u16, StreamName, u64, &[u8])> {
    let run = u16::from_be_bytes(frame.get(..2)?.try_into().ok()?);
    let stream = StreamName::from_byte(*frame.get(2)?)?;
    let offset = u64::from_be_bytes(frame.get(3..HEADER)?.try_into().ok()?);
    Some((run, stream, offset, &frame[HEADER..]))
}

/// Where a reconnecting client continues: `?resume_from=RUN:STREAM:OFFSET[,…]`
/// (`0:stdout:1234,0:stderr:56`); a stream not named starts at 0.
pub fn parse_resume(query: &str) -> Result<Vec<(u16, StreamName, u64)>, String> {
    let bad = |part: &str| format!("resume_from: `{part}` is not RUN:stdout|stderr:OFFSET");
    query
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let mut words = part.split(':');
            let (Some(run), Some(stream), Some(offset), None) =
                (words.next(), words.next(), words.next(), words.next())
            else {
                return Err(bad(part));
            };
            let stream = match stream {
                "stdout" => StreamName::Stdout,
                "stderr" => StreamName::Stderr,
                _ => return Err(bad(part)),
            };
            Ok((
                run.parse().map_err(|_| bad(part))?,
                stream,
                offset.parse().map_err(|_| bad(part))?,
            ))
        })
        .collect()
}

/// Writes `resume_from`'s value for these offsets.
pub fn format_resume(offsets: &[(u16, StreamName, u64)]) -> String {
    offsets
        .iter()
        .map(|(run, stream, offset)| format!("{run}:{}:{offset}", stream.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_resume_round_trip() {
        let f = encode_output(3, StreamName::Stderr, 1 << 40, b"oops");
        assert_eq!(
            decode_output(&f),
            Some((3, StreamName::Stderr, 1 << 40, &b"oops"[..]))
        );
        assert_eq!(decode_output(&f[..5]), None);
        let offsets = vec![(0, StreamName::Stdout, 12), (1, StreamName::Stderr, 0)];
        assert_eq!(parse_resume(&format_resume(&offsets)), Ok(offsets));
        assert!(parse_resume("0:stdin:3").is_err());
        assert!(parse_resume("0:stdout").is_err());
        assert_eq!(parse_resume(""), Ok(vec![]));
    }

    #[test]
    fn messages_are_tagged() {
        let m: ClientMessage = serde_json::from_str(r#"{"t":"signal","name":"INT"}"#).unwrap();
        assert_eq!(
            m,
            ClientMessage::Signal {
                name: ExecSignal::Int
            }
        );
        assert!(serde_json::from_str::<ClientMessage>(r#"{"t":"signal","name":"STOP"}"#).is_err());
        let exit = ServerMessage::Exit {
            run: 0,
            server: "web-01".into(),
            code: Some(130),
            signal: Some(2),
            timed_out: false,
            error: None,
            duration_ms: Some(12),
        };
        let json = serde_json::to_value(&exit).unwrap();
        assert_eq!(json["t"], "exit");
        assert_eq!(json["code"], 130);
        assert_eq!(json["duration_ms"], 12);
        // A stream from a gateway before `duration_ms` still reads.
        let old: ServerMessage =
            serde_json::from_str(r#"{"t":"exit","run":0,"server":"web-01","code":0}"#).unwrap();
        assert!(matches!(
            old,
            ServerMessage::Exit {
                duration_ms: None,
                ..
            }
        ));
    }
}
