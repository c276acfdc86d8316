//! How `gate exec` gets a command's output: the job starts with `POST /api/exec` and its output
//! arrives live on `WS /ws/exec/{id}`, every run's stdout and stderr apart and numbered by offset,
//! whatever its size. Standard input (`--stdin`), a terminal (`-t`: raw mode and resizes) and
//! signals (Ctrl-C, SIGTERM, SIGHUP) go the other way. A dropped connection is resumed from the
//! offsets reached, so nothing is lost or repeated; the job is paced by this stream, so output
//! waits for gate rather than flowing past it.

use super::websh::raw;
use crate::exit::CliError;
use crate::output::{sanitize, Output};
use futures_util::{SinkExt, StreamExt};
use gatehouse_client::transport::ws::Socket;
use gatehouse_client::{exit, Accepted, Client, ClientError};
use gatehouse_shared::exec::{ExecRequest, ExecRun, RunStatus};
use gatehouse_shared::exec_stream::{
    close, decode_output, ClientMessage, ExecSignal, ServerMessage, StreamName, STDIN_BUFFER,
};
use gatehouse_shared::websh::flow::backoff_ms;
use std::io::Write;
use std::time::Duration;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// How output is shown while it arrives.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    /// Several servers: each line prefixed `server | ` (one server: bytes as they come).
    pub prefix: bool,
    /// Keep every byte for the end (`--output json`, `--log-dir`) instead of printing it.
    pub collect: bool,
}

/// Reconnect attempts after a dropped connection before giving up on the stream.
const MAX_RECONNECTS: u32 = 8;
/// Standard input is sent in pieces of at most this (the protocol's limit per message).
const STDIN_CHUNK: usize = 64 * 1024;

/// One run as the stream reports it.
struct RunState {
    server: String,
    /// The next offset expected, per stream (stdout, stderr).
    received: [u64; 2],
    /// Bytes kept for the end (when collecting).
    kept: [Vec<u8>; 2],
    /// A line not yet ended, per stream (when prefixing).
    partial: [Vec<u8>; 2],
    exit: Option<Exit>,
}

struct Exit {
    code: Option<i32>,
    timed_out: bool,
    error: Option<String>,
    duration_ms: Option<u64>,
}

fn slot(stream: StreamName) -> usize {
    match stream {
        StreamName::Stdout => 0,
        StreamName::Stderr => 1,
    }
}

/// Starts one batch and follows it to the end: every run with its exit (and, when collecting,
/// its output), or the approval it waits for.
pub async fn run_batch(
    client: &Client,
    request: &ExecRequest,
    live: Live,
    out: &Output,
) -> Result<Accepted<Vec<ExecRun>>, CliError> {
    let asked = ExecRequest {
        stream: true,
        ..request.clone()
    };
    let job = match client.exec_start(&asked).await? {
        Accepted::Done(job) => job,
        Accepted::Pending(pending) => return Ok(Accepted::Pending(pending)),
    };
    let mut runs: Vec<RunState> = job
        .runs
        .iter()
        .map(|r| RunState {
            server: r.server.clone(),
            received: [0; 2],
            kept: [Vec::new(), Vec::new()],
            partial: [Vec::new(), Vec::new()],
            exit: None,
        })
        .collect();
    let width = runs.iter().map(|r| r.server.len()).max().unwrap_or(0);
    let raw_mode = if request.tty {
        raw::RawMode::enable()?
    } else {
        None
    };
    let mut input = request.stdin.then(read_stdin);
    let mut signals = Signals::new(request.tty && raw_mode.is_some())?;
    let mut attempt = 0u32;
    loop {
        let path = format!("{}{}", job.stream_path, resume_query(&runs));
        let ended = match client.websocket(&path).await {
            Ok(mut socket) => {
                if request.tty {
                    let (cols, rows) = raw::size();
                    let _ = send(&mut socket, &ClientMessage::Resize { cols, rows }).await;
                }
                attempt = 0;
                follow(
                    &mut socket,
                    &mut runs,
                    live,
                    width,
                    &mut input,
                    &mut signals,
                    out,
                )
                .await
            }
            Err(ClientError::Network(e)) => Followed::Dropped(e),
            Err(e) => return Err(e.into()),
        };
        match ended {
            Followed::Done => break,
            Followed::Closed(code, reason) => match code {
                close::SHELL_EXITED => break,
                close::WORK_SESSION_ENDED | close::TERMINATED => {
                    drop(raw_mode);
                    flush_partials(&mut runs, width);
                    return Err(CliError::decided_against(
                        "exec_ended",
                        format!("the command was ended: {}", sanitize(&reason)),
                    ));
                }
                close::GATE_DENIED => {
                    let mut e = CliError::failed("gate_denied", sanitize(&reason));
                    e.exit_code = exit::GATE_DENIED;
                    return Err(e);
                }
                close::NOT_FOUND if runs.iter().all(|r| r.exit.is_some()) => break,
                _ if (1000..2000).contains(&code) && code != 1006 => {
                    return Err(CliError::failed(
                        "exec_stream",
                        format!(
                            "the gateway closed the stream ({code}): {}",
                            sanitize(&reason)
                        ),
                    ));
                }
                _ => {}
            },
            Followed::Dropped(_) if attempt < MAX_RECONNECTS => {}
            Followed::Dropped(e) => {
                return Err(CliError::failed(
                    "network_error",
                    format!("lost the command's output stream: {e}"),
                ))
            }
        }
        // Dropped: come back for the rest, from the offsets reached.
        tokio::time::sleep(Duration::from_millis(u64::from(backoff_ms(attempt, 0.5)))).await;
        attempt += 1;
    }
    drop(raw_mode);
    flush_partials(&mut runs, width);
    Ok(Accepted::Done(runs.into_iter().map(finished).collect()))
}

/// How one connection ended.
enum Followed {
    Done,
    Closed(u16, String),
    Dropped(String),
}

/// The signals gate passes on to the command: Ctrl-C (when the local terminal is not raw, so
/// the keyboard's interrupt reaches gate rather than the remote terminal), SIGTERM, SIGHUP, and
/// SIGWINCH for a terminal.
struct Signals {
    interrupt: Signal,
    terminate: Signal,
    hangup: Signal,
    winch: Option<Signal>,
}

impl Signals {
    fn new(terminal: bool) -> std::io::Result<Self> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
            winch: if terminal {
                Some(signal(SignalKind::window_change())?)
            } else {
                None
            },
        })
    }
}

/// Standard input, read on its own task, in pieces; `None` after its end.
struct Input {
    rx: mpsc::Receiver<Vec<u8>>,
    /// Bytes sent, and the command's acknowledgement of what it was given.
    sent: u64,
    given: u64,
    ended: bool,
}

fn read_stdin() -> Input {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut stdin = tokio::io::stdin();
        let mut buf = vec![0u8; STDIN_CHUNK];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 || tx.send(buf[..n].to_vec()).await.is_err() {
                break;
            }
        }
    });
    Input {
        rx,
        sent: 0,
        given: 0,
        ended: false,
    }
}

/// One connection: output to the screen (or kept), input and signals to the command, until
/// the job is done or the connection ends.
async fn follow(
    socket: &mut Socket,
    runs: &mut [RunState],
    live: Live,
    width: usize,
    input: &mut Option<Input>,
    signals: &mut Signals,
    out: &Output,
) -> Followed {
    loop {
        // Input is read only while the gateway holds less than its buffer of it unread.
        let may_send = input
            .as_ref()
            .is_some_and(|i| !i.ended && i.sent.saturating_sub(i.given) < STDIN_BUFFER);
        let winch = async {
            match signals.winch.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            frame = socket.next() => match frame {
                Some(Ok(Message::Binary(data))) => {
                    let Some((run, stream, offset, bytes)) = decode_output(&data) else {
                        continue;
                    };
                    let Some(state) = runs.get_mut(usize::from(run)) else { continue };
                    let at = slot(stream);
                    let end = offset + bytes.len() as u64;
                    if end <= state.received[at] {
                        continue;
                    }
                    let fresh = &bytes[state.received[at].saturating_sub(offset) as usize..];
                    state.received[at] = end;
                    deliver(state, stream, fresh, live, width);
                    let ack = ClientMessage::Ack { run, stream, offset: end };
                    if send(socket, &ack).await.is_err() {
                        return Followed::Dropped("the connection broke".into());
                    }
                }
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerMessage>(&text) {
                    Ok(ServerMessage::Exit { run, code, timed_out, error, duration_ms, .. }) => {
                        if let Some(state) = runs.get_mut(usize::from(run)) {
                            state.exit = Some(Exit { code, timed_out, error, duration_ms });
                        }
                    }
                    Ok(ServerMessage::Done) => return Followed::Done,
                    Ok(ServerMessage::Gap { server, stream, from, to, .. }) => out.warn(&format!(
                        "{server}: {} bytes of {} were lost before they could be shown",
                        to.saturating_sub(from),
                        stream.as_str()
                    )),
                    Ok(ServerMessage::StdinAck { offset }) => {
                        if let Some(i) = input.as_mut() {
                            i.given = i.given.max(offset);
                        }
                    }
                    Ok(ServerMessage::Ended { reason }) => {
                        out.warn(&format!("the command was ended: {reason:?}"));
                    }
                    Ok(ServerMessage::Error { message }) => out.warn(&message),
                    _ => {}
                },
                Some(Ok(Message::Close(frame))) => {
                    return match frame {
                        Some(f) => Followed::Closed(u16::from(f.code), f.reason.to_string()),
                        None => Followed::Dropped("closed without a code".into()),
                    };
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Followed::Dropped(e.to_string()),
                None => return Followed::Dropped("the connection ended".into()),
            },
            piece = async {
                match input.as_mut() {
                    Some(i) => i.rx.recv().await,
                    None => std::future::pending().await,
                }
            }, if may_send => {
                let Some(i) = input.as_mut() else { continue };
                let sent = match piece {
                    Some(bytes) => {
                        i.sent += bytes.len() as u64;
                        socket.send(Message::Binary(bytes.into())).await
                    }
                    None => {
                        i.ended = true;
                        let eof = serde_json::to_string(&ClientMessage::Eof).unwrap_or_default();
                        socket.send(Message::Text(eof.into())).await
                    }
                };
                if sent.is_err() {
                    return Followed::Dropped("the connection broke".into());
                }
            }
            _ = signals.interrupt.recv() => {
                let _ = send(socket, &ClientMessage::Signal { name: ExecSignal::Int }).await;
            }
            _ = signals.terminate.recv() => {
                let _ = send(socket, &ClientMessage::Signal { name: ExecSignal::Term }).await;
            }
            _ = signals.hangup.recv() => {
                let _ = send(socket, &ClientMessage::Signal { name: ExecSignal::Hup }).await;
            }
            _ = winch => {
                let (cols, rows) = raw::size();
                let _ = send(socket, &ClientMessage::Resize { cols, rows }).await;
            }
        }
    }
}

/// Shows (or keeps) fresh bytes of one run's stream.
fn deliver(state: &mut RunState, stream: StreamName, fresh: &[u8], live: Live, width: usize) {
    let at = slot(stream);
    if live.collect {
        state.kept[at].extend_from_slice(fresh);
        return;
    }
    if !live.prefix {
        let _ = match stream {
            StreamName::Stdout => {
                let mut o = std::io::stdout();
                o.write_all(fresh).and_then(|()| o.flush())
            }
            StreamName::Stderr => std::io::stderr().write_all(fresh),
        };
        return;
    }
    state.partial[at].extend_from_slice(fresh);
    while let Some(end) = state.partial[at].iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = state.partial[at].drain(..=end).collect();
        print_line(&state.server, stream, &line, width);
    }
}

fn print_line(server: &str, stream: StreamName, line: &[u8], width: usize) {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches('\n');
    let _ = match stream {
        StreamName::Stdout => writeln!(std::io::stdout(), "{server:width$} | {text}"),
        StreamName::Stderr => writeln!(std::io::stderr(), "{server:width$} | {text}"),
    };
}

/// Lines left without their end when the runs finished.
fn flush_partials(runs: &mut [RunState], width: usize) {
    for state in runs {
        for stream in StreamName::BOTH {
            let rest = std::mem::take(&mut state.partial[slot(stream)]);
            if !rest.is_empty() {
                print_line(&state.server, stream, &rest, width);
            }
        }
    }
}

/// `?resume_from=RUN:STREAM:OFFSET,…` for what was received, or nothing at the start.
fn resume_query(runs: &[RunState]) -> String {
    let parts: Vec<String> = runs
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            StreamName::BOTH
                .into_iter()
                .filter(|s| r.received[slot(*s)] > 0)
                .map(move |s| format!("{i}:{}:{}", s.as_str(), r.received[slot(s)]))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?resume_from={}", parts.join(","))
    }
}

/// A run as the rest of `gate exec` reports it.
fn finished(state: RunState) -> ExecRun {
    let [stdout, stderr] = state.kept;
    let duration_ms = state.exit.as_ref().and_then(|e| e.duration_ms);
    let (status, exit_code, error) = match state.exit {
        Some(Exit {
            timed_out: true,
            code,
            error,
            ..
        }) => (RunStatus::TimedOut, code, error),
        Some(Exit {
            code: Some(0),
            error,
            ..
        }) => (RunStatus::Succeeded, Some(0), error),
        Some(Exit {
            code: Some(code),
            error,
            ..
        }) => (RunStatus::Failed, Some(code), error),
        Some(Exit {
            code: None, error, ..
        }) => (RunStatus::Error, None, error),
        None => (
            RunStatus::Error,
            None,
            Some("the stream ended before this run did".into()),
        ),
    };
    ExecRun {
        server: state.server,
        status,
        exit_code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        duration_ms,
        error,
    }
}

async fn send(socket: &mut Socket, message: &ClientMessage) -> Result<(), ()> {
    let text = serde_json::to_string(message).map_err(drop)?;
    socket.send(Message::Text(text.into())).await.map_err(drop)
}
