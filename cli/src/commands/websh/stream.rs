//! Attached to a terminal's stream: output to the screen exactly once (offsets, so a reconnect
//! resumes with no byte lost or repeated), keys and resizes to the server, and reconnecting with
//! backoff after a dropped connection or a gateway restart, as the console does (the same
//! `shared::websh::flow` bookkeeping decides what is new and what a close code means).

use super::escape::{Escape, EscapeReader, HELP};
use super::keys::Keyboard;
use super::raw;
use crate::exit::CliError;
use crate::output::{sanitize, Output};
use futures_util::{SinkExt, StreamExt};
use gatehouse_client::exit;
use gatehouse_client::transport::ws::Socket;
use gatehouse_client::{Client, ClientError};
use gatehouse_shared::share::JoinShare;
use gatehouse_shared::websh::flow::{backoff_ms, close_outcome, Flow, Phase, Viewer};
use gatehouse_shared::websh::{close, decode_output, ClientMessage, EndReason, ServerMessage};
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::signal::unix::{signal, SignalKind};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

/// How often a quiet connection is pinged, so a dead one is noticed and proxies keep it.
const PING_EVERY: Duration = Duration::from_secs(20);

/// How one connection ended.
enum Pump {
    /// The server closed with this code and reason.
    Closed(u16, String),
    /// The connection broke without a close.
    Dropped,
    /// The person typed `~.`.
    Left,
    /// A signal asked this process to end.
    Signalled,
}

/// What `~.` exits with: ssh's code for "the connection, not the remote command, ended".
pub const LEFT: i32 = 255;

/// Which terminal to attach to, as whom.
pub enum Target {
    /// The caller's own terminal at this `ws_path`.
    Own(String),
    /// Staff watching someone's terminal, read-only (`ws_path?watch=true`).
    Watch(String),
    /// A shared link: a guest asks for a fresh ticket before every attempt, keeping its
    /// participant so the others see one guest, not one per reconnect.
    Guest { join: JoinShare, read_only: bool },
}

impl Target {
    fn viewer(&self) -> Viewer {
        match self {
            Target::Own(_) | Target::Watch(_) => Viewer::Member,
            Target::Guest { .. } => Viewer::Guest,
        }
    }

    fn typing(&self) -> bool {
        !matches!(
            self,
            Target::Watch(_)
                | Target::Guest {
                    read_only: true,
                    ..
                }
        )
    }

    /// Only the owner sizes the terminal.
    fn sizes(&self) -> bool {
        matches!(self, Target::Own(_))
    }

    /// The path for the next attempt.
    async fn path(&mut self, client: &Client) -> Result<String, ClientError> {
        match self {
            Target::Own(path) | Target::Watch(path) => Ok(path.clone()),
            Target::Guest { join, read_only } => {
                let joined = client.join_share(join).await?;
                join.participant = Some(joined.participant);
                *read_only = joined.read_only;
                Ok(format!("{}?ticket={}", joined.ws_path, joined.ticket))
            }
        }
    }
}

/// Runs the terminal until it ends; the exit code: the remote shell's, 255 after `~.` (as ssh),
/// or an error for a terminal that ended otherwise.
pub async fn run(client: &Client, mut target: Target, out: &Output) -> Result<i32, CliError> {
    let raw_mode = raw::RawMode::enable()?;
    let interactive = raw_mode.is_some();
    let mut keys = Keyboard::open();
    let mut winch = signal(SignalKind::window_change())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut escape = EscapeReader::default();
    let mut flow = Flow::default();
    let mut exit_code: Option<i32> = None;
    // When the last working connection was lost (None: never connected yet).
    let mut lost_at: Option<Instant> = None;
    let mut connected_once = false;
    let mut attempt = 0u32;
    let mut held: Vec<u8> = Vec::new();
    loop {
        let base = match target.path(client).await {
            Ok(path) => path,
            Err(e) if !connected_once => return Err(e.into()),
            Err(ClientError::Network(_)) => String::new(),
            Err(e) => return Err(e.into()),
        };
        let viewer = target.viewer();
        let sep = if base.contains('?') { '&' } else { '?' };
        let path = format!("{base}{sep}resume_from={}", flow.received);
        let lost_for = lost_at.map(|t| t.elapsed().as_secs_f64() * 1000.0);
        let attempted = if base.is_empty() {
            Err(ClientError::Network("the server cannot be reached".into()))
        } else {
            client.websocket(&path).await
        };
        match attempted {
            Ok(mut socket) => {
                if connected_once && interactive {
                    note(out, "reconnected");
                }
                connected_once = true;
                attempt = 0;
                if target.sizes() {
                    let (cols, rows) = raw::size();
                    let _ = send_json(&mut socket, &ClientMessage::Resize { cols, rows }).await;
                }
                let ended = pump(
                    &mut socket,
                    Keys {
                        rx: &mut keys,
                        escape: &mut escape,
                        held: &mut held,
                        typing: target.typing(),
                        sizes: target.sizes(),
                    },
                    &mut flow,
                    &mut exit_code,
                    out,
                    (&mut winch, &mut term, &mut hangup),
                )
                .await;
                match ended {
                    Pump::Left => {
                        let _ = socket.close(None).await;
                        drop(raw_mode);
                        note(
                            out,
                            "left the terminal (~.); it keeps running on the server",
                        );
                        return Ok(LEFT);
                    }
                    Pump::Signalled => {
                        let _ = socket.close(None).await;
                        return Ok(exit::ERROR);
                    }
                    Pump::Closed(code, reason) => {
                        lost_at = Some(Instant::now());
                        if let Some(phase) = close_outcome(viewer, code, &reason, Some(0.0)) {
                            drop(raw_mode);
                            return finished(phase, exit_code);
                        }
                    }
                    Pump::Dropped => lost_at = Some(Instant::now()),
                }
            }
            Err(ClientError::Api(e)) if !connected_once || e.status != 404 => {
                return Err(ClientError::Api(e).into());
            }
            Err(ClientError::Api(_)) => {
                // Not found right after a restart: the terminal's agent is not back yet.
                if close_outcome(viewer, close::NOT_FOUND, "", lost_for).is_some() {
                    drop(raw_mode);
                    return finished(
                        Phase::Ended {
                            word: "gone".into(),
                            message: "this terminal no longer exists.".into(),
                        },
                        exit_code,
                    );
                }
            }
            Err(e) if !connected_once => return Err(e.into()),
            Err(_) => {}
        }
        if interactive && attempt == 0 {
            note(out, "connection lost; reconnecting (~. to leave)");
        }
        // Wait before the next attempt, still listening for `~.` and keeping what is typed.
        let wait = Duration::from_millis(u64::from(backoff_ms(attempt, jitter())));
        attempt = attempt.saturating_add(1);
        let deadline = tokio::time::sleep(wait);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                typed = keys.recv() => {
                    let Some(typed) = typed else { continue };
                    let (send, asked) = escape.feed(&typed);
                    held.extend_from_slice(&send);
                    if asked == Some(Escape::Leave) {
                        drop(raw_mode);
                        note(out, "left the terminal (~.)");
                        return Ok(LEFT);
                    }
                }
                _ = term.recv() => return Ok(exit::ERROR),
                _ = hangup.recv() => return Ok(exit::ERROR),
            }
        }
    }
}

/// What is typed, and what was typed while no connection could take it.
struct Keys<'a> {
    rx: &'a mut Keyboard,
    escape: &'a mut EscapeReader,
    /// Sent once the gateway has attached this connection (its first message): a connection
    /// refused right after the upgrade (the agent not back yet) must not swallow them.
    held: &'a mut Vec<u8>,
    /// Whether keys are sent (a watcher's and a read-only guest's are only read for `~.`).
    typing: bool,
    /// Whether resizes are sent (the owner's only).
    sizes: bool,
}

/// One connection: until it closes, drops, or the person leaves.
async fn pump(
    socket: &mut Socket,
    keys: Keys<'_>,
    flow: &mut Flow,
    exit_code: &mut Option<i32>,
    out: &Output,
    signals: (
        &mut tokio::signal::unix::Signal,
        &mut tokio::signal::unix::Signal,
        &mut tokio::signal::unix::Signal,
    ),
) -> Pump {
    let (winch, term, hangup) = signals;
    let Keys {
        rx,
        escape,
        held,
        typing,
        sizes,
    } = keys;
    let mut attached = false;
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut stdout = std::io::stdout();
    loop {
        let frame = tokio::select! {
            frame = socket.next() => frame,
            typed = rx.recv() => {
                let Some(typed) = typed else { continue };
                let (send, asked) = escape.feed(&typed);
                if typing {
                    held.extend_from_slice(&send);
                }
                if attached
                    && !held.is_empty()
                    && socket.send(Message::Binary(std::mem::take(held).into())).await.is_err()
                {
                    return Pump::Dropped;
                }
                match asked {
                    Some(Escape::Leave) => return Pump::Left,
                    Some(Escape::Help) => {
                        let _ = stdout.write_all(HELP.as_bytes()).and_then(|()| stdout.flush());
                    }
                    None => {}
                }
                continue;
            }
            _ = winch.recv(), if sizes => {
                let (cols, rows) = raw::size();
                if send_json(socket, &ClientMessage::Resize { cols, rows }).await.is_err() {
                    return Pump::Dropped;
                }
                continue;
            }
            _ = ping.tick() => {
                if send_json(socket, &ClientMessage::Ping).await.is_err() {
                    return Pump::Dropped;
                }
                continue;
            }
            _ = term.recv() => return Pump::Signalled,
            _ = hangup.recv() => return Pump::Signalled,
        };
        // Any message but a close means the gateway attached this connection to the terminal.
        if !attached && matches!(frame, Some(Ok(Message::Binary(_) | Message::Text(_)))) {
            attached = true;
            if typing
                && !held.is_empty()
                && socket
                    .send(Message::Binary(std::mem::take(held).into()))
                    .await
                    .is_err()
            {
                return Pump::Dropped;
            }
        }
        match frame {
            Some(Ok(Message::Binary(data))) => {
                let Some((offset, bytes)) = decode_output(&data) else {
                    continue;
                };
                let Some(skip) = flow.accept(offset, bytes.len()) else {
                    continue;
                };
                let fresh = &bytes[skip.min(bytes.len())..];
                if stdout
                    .write_all(fresh)
                    .and_then(|()| stdout.flush())
                    .is_err()
                {
                    return Pump::Signalled;
                }
                if let Some(offset) = flow.rendered(offset + bytes.len() as u64) {
                    if send_json(socket, &ClientMessage::Ack { offset })
                        .await
                        .is_err()
                    {
                        return Pump::Dropped;
                    }
                }
            }
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerMessage>(&text) {
                Ok(ServerMessage::Exit { code }) => *exit_code = Some(code),
                Ok(ServerMessage::Ended { reason }) => note(out, &ended_words(reason)),
                Ok(ServerMessage::Notice { text, .. }) => note(out, &text),
                _ => {}
            },
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((u16::from(CloseCode::Abnormal), String::new()));
                return Pump::Closed(code, reason);
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return Pump::Dropped,
        }
    }
}

/// The exit code of a terminal that reached a final phase.
fn finished(phase: Phase, exit_code: Option<i32>) -> Result<i32, CliError> {
    match phase {
        Phase::Exited(code) => Ok(code.or(exit_code).unwrap_or(0)),
        Phase::Ended { word, message } => {
            let text = format!("the terminal ended ({word}): {message}");
            // A work session revoked, expired or completed is decided: retrying will not help.
            Err(match word.as_str() {
                "revoked" | "expired" | "completed" | "ended" | "link-ended" => {
                    CliError::decided_against("terminal_ended", text)
                }
                "denied" => {
                    let mut e = CliError::failed("gate_denied", text);
                    e.exit_code = exit::GATE_DENIED;
                    e
                }
                _ => CliError::failed("terminal_ended", text),
            })
        }
        other => Err(CliError::failed(
            "terminal_ended",
            format!("the terminal ended ({})", other.as_str()),
        )),
    }
}

fn ended_words(reason: EndReason) -> String {
    Phase::from_end_reason(reason)
        .banner()
        .unwrap_or_else(|| "the terminal ended".into())
}

/// A line for the person, on stderr, safe for the terminal and readable in raw mode.
fn note(out: &Output, text: &str) {
    if !out.quiet {
        eprint!("\r\n[gate] {}\r\n", sanitize(text));
    }
}

async fn send_json(socket: &mut Socket, message: &ClientMessage) -> Result<(), ()> {
    let text = serde_json::to_string(message).map_err(drop)?;
    socket.send(Message::Text(text.into())).await.map_err(drop)
}

/// A number in 0..1 that differs between processes and attempts (reconnects do not march in
/// step); no cryptographic quality needed.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    f64::from(nanos % 1000) / 1000.0
}
