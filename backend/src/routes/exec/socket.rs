//! The exec stream `WS /ws/exec/{id}` (docs/protocol.md, "Exec stream"): `Origin` checked before
//! the upgrade, the job's owner admitted with the same credential that started it and the gate
//! asked again, then every run's output (stdout and stderr apart, numbered by offset) with its
//! exit, and standard input, signals and resizes back (`control`), until every run ended or the
//! gateway ended the job.

use super::admit::admit;
use super::control::{control, Client, Input};
use crate::core::gateway::capture::{ExecRunState, RunEnd};
use crate::core::state::AppState;
use crate::error::ApiError;
use crate::extract::{finish_close, ApiPath, ApiQuery, AuthUser, WsUpgrade};
use axum::extract::ws::{Message, WebSocket};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use gatehouse_shared::exec_stream::{
    close, encode_output, parse_resume, ServerMessage, StreamName, StreamRun, STDIN_BUFFER, VERSION,
};
use gatehouse_shared::websh::EndReason;
use serde::Deserialize;
use std::time::Duration;
use uuid::Uuid;

/// Largest client → server message (standard input, control).
const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
/// Output bytes per frame to a viewer.
pub const FRAME_BYTES: usize = 32 * 1024;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// `RUN:STREAM:OFFSET[,…]` (`0:stdout:1234,0:stderr:56`): where a reconnecting client
    /// continues each stream; a stream not named starts at 0.
    resume_from: Option<String>,
}

pub type Sink = SplitSink<WebSocket, Message>;

/// The live stream of a command job (a WebSocket; `docs/protocol.md`, "Exec stream"): every
/// run's stdout and stderr apart, each frame numbered by its offset within (run, stream) for
/// `resume_from`; an `exit` per run and a final `done`; standard input (jobs started with
/// `stdin`, one server), `eof`, signals (`INT`, `TERM`, `KILL`, `HUP`) and `resize` (with
/// `tty`) from the client. Authenticated like `/ws/websh/{id}` (cookie with a same-origin
/// `Origin`, or `Authorization: Bearer`); only the job's owner, with the credential that started
/// it, and the gate is asked again. After the upgrade, refusals are close codes: 4001
/// unauthenticated, 4003 gate denied, 4004 no such job (or not yours); the stream ends with 1000
/// when every run ended, 4010/4011 when the work session or token ended it, 1008/1009 on a bad
/// client frame.
#[utoipa::path(get, path = "/ws/exec/{id}", tag = "exec",
    params(("id" = String, Path, description = "job id"), StreamQuery),
    responses((status = 101, description = "switching to the exec stream (WebSocket)"),
              (status = 400, body = gatehouse_shared::ErrorEnvelope,
               description = "not a WebSocket request, or a malformed resume_from"),
              (status = 403, body = gatehouse_shared::ErrorEnvelope,
               description = "a foreign Origin, refused before the upgrade")))]
pub async fn exec_socket(
    State(state): State<AppState>,
    auth: Result<AuthUser, ApiError>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<StreamQuery>,
    upgrade: WsUpgrade,
) -> Response {
    let resume = match parse_resume(q.resume_from.as_deref().unwrap_or_default()) {
        Ok(resume) => resume,
        Err(message) => return ApiError::validation("resume_from", message).into_response(),
    };
    let upgrade = match upgrade.client_stream() {
        Ok(upgrade) => upgrade,
        Err(refused) => return refused.into_response(),
    };
    upgrade.on_upgrade(move |socket| async move {
        match admit(&state, auth, id).await {
            Ok((job, actor)) => {
                let who = Client {
                    state: &state,
                    job,
                    actor,
                };
                serve(socket, who, &resume).await
            }
            Err((code, reason)) => {
                let (sink, stream) = socket.split();
                finish_close(sink, stream, code, &reason).await;
            }
        }
    })
}

pub fn text(msg: &ServerMessage) -> Message {
    Message::Text(serde_json::to_string(msg).unwrap_or_default().into())
}

/// What one viewer has been sent of one run.
struct Sent {
    offsets: [u64; 2],
    exit: bool,
    /// The run's version when this viewer last looked (0: never).
    seen: u64,
    /// The run was opened or is over: this viewer's frames can no longer overtake its open.
    settled: bool,
}

/// Queues every byte of `run` this viewer may have now, gaps announced (the caller flushes);
/// `Err` when the socket is gone.
async fn send_output(
    sink: &mut Sink,
    index: u16,
    run: &ExecRunState,
    viewer: u64,
    sent: &mut Sent,
) -> Result<(), ()> {
    for (at, stream) in StreamName::BOTH.into_iter().enumerate() {
        loop {
            let (from, bytes) = run.read(stream, viewer, sent.offsets[at], FRAME_BYTES);
            if from > sent.offsets[at] {
                let gap = ServerMessage::Gap {
                    run: index,
                    server: run.server_name.clone(),
                    stream,
                    from: sent.offsets[at],
                    to: from,
                };
                sink.feed(text(&gap)).await.map_err(drop)?;
            }
            sent.offsets[at] = from;
            if bytes.is_empty() {
                break;
            }
            sent.offsets[at] += bytes.len() as u64;
            let frame = encode_output(index, stream, from, &bytes);
            sink.feed(Message::Binary(frame.into()))
                .await
                .map_err(drop)?;
        }
    }
    Ok(())
}

/// The run's `exit`, once it ended and this viewer has all its output (or, `cut`, when the
/// gateway ended the job: what was not sent by then is not sent).
fn exit_of(index: u16, run: &ExecRunState, sent: &Sent, cut: bool) -> Option<ServerMessage> {
    let end = run.outcome()?;
    let all_sent = StreamName::BOTH
        .into_iter()
        .enumerate()
        .all(|(at, stream)| sent.offsets[at] >= run.end_of(stream));
    if !all_sent && !cut {
        return None;
    }
    let server = run.server_name.clone();
    Some(match end {
        RunEnd::Done {
            exit_code,
            timed_out,
            signal,
            duration_ms,
        } => ServerMessage::Exit {
            run: index,
            server,
            code: exit_code.or(signal.map(|n| 128 + n)),
            signal,
            timed_out,
            error: None,
            duration_ms: Some(duration_ms),
        },
        RunEnd::Failed(message) => ServerMessage::Exit {
            run: index,
            server,
            code: None,
            signal: None,
            timed_out: false,
            error: Some(message),
            duration_ms: None,
        },
    })
}

/// A refused client frame: said in an `error` message, then the close.
async fn refuse(sink: &mut Sink, code: u16, message: &str) -> Option<(u16, String)> {
    let error = ServerMessage::Error {
        message: message.to_owned(),
    };
    let _ = sink.send(text(&error)).await;
    Some((code, message.to_owned()))
}

/// Streams the job to one viewer and its input back, until every run ended, the gateway ended
/// the job, or the client left. The job goes on without its viewer.
async fn serve(socket: WebSocket, who: Client<'_>, resume: &[(u16, StreamName, u64)]) {
    let job = who.job.clone();
    let (mut sink, mut stream) = socket.split();
    let hello = ServerMessage::Hello {
        version: VERSION,
        job: job.id,
        stdin: job.stdin,
        tty: job.tty,
        runs: job
            .runs
            .iter()
            .enumerate()
            .map(|(index, run)| StreamRun {
                index: index as u16,
                server: run.server_name.clone(),
                run: run.channel.0,
            })
            .collect(),
    };
    if sink.send(text(&hello)).await.is_err() {
        return;
    }
    let viewer = job.add_viewer(resume);
    let mut sent: Vec<Sent> = (0..job.runs.len())
        .map(|index| {
            let at = |stream| {
                resume
                    .iter()
                    .find(|(i, s, _)| usize::from(*i) == index && *s == stream)
                    .map_or(0, |(_, _, offset)| *offset)
            };
            Sent {
                offsets: [at(StreamName::Stdout), at(StreamName::Stderr)],
                exit: false,
                seen: 0,
                settled: false,
            }
        })
        .collect();
    let (mut unsettled, mut exited) = (sent.len(), 0);
    // Set once the pass after the gateway ended the job ran: that pass looks at every run.
    let mut saw_end = false;
    let mut input = Input::default();
    let mut keepalive = tokio::time::interval(Duration::from_secs(20));
    let outcome: Option<(u16, String)> = 'serve: loop {
        let changed = job.changed.notified();
        let ended = job.ended();
        if let Some(run) = job.runs.first().filter(|_| job.stdin) {
            if input.flush(run, &mut sink).await.is_err() {
                break 'serve None;
            }
        }
        // Only the runs that moved since this viewer last looked (a pass over a thousand runs
        // on every exit would cost more than the runs); after the gateway ended the job, every
        // run once, as exits held back for their output now go without it.
        let every_run = ended.is_some() && !saw_end;
        saw_end = ended.is_some();
        for (index, run) in job.runs.iter().enumerate() {
            let index = index as u16;
            let progress = &mut sent[usize::from(index)];
            let version = run.version();
            if version == progress.seen && !every_run {
                continue;
            }
            progress.seen = version;
            if !progress.settled && run.settled() {
                progress.settled = true;
                unsettled -= 1;
            }
            if send_output(&mut sink, index, run, viewer, progress)
                .await
                .is_err()
            {
                break 'serve None;
            }
            if !progress.exit {
                if let Some(exit) = exit_of(index, run, progress, ended.is_some()) {
                    progress.exit = true;
                    exited += 1;
                    if sink.feed(text(&exit)).await.is_err() {
                        break 'serve None;
                    }
                }
            }
        }
        // One write for the whole pass.
        if sink.flush().await.is_err() {
            break 'serve None;
        }
        let all_exited = exited == sent.len();
        // The gateway marks a job ended just before it ends its runs: the `ended` follows
        // their exits.
        if let (Some(reason), true) = (ended, all_exited) {
            let _ = sink.send(text(&ServerMessage::Ended { reason })).await;
            let code = if reason == EndReason::Terminated {
                close::TERMINATED
            } else {
                close::WORK_SESSION_ENDED
            };
            break Some((
                code,
                crate::core::gateway::service::end_reason_text(reason).to_owned(),
            ));
        }
        // Read again: a job ended while this pass ran has its runs' ends behind its mark.
        if all_exited && job.ended().is_none() {
            let _ = sink.send(text(&ServerMessage::Done)).await;
            break Some((close::SHELL_EXITED, "every run ended".to_owned()));
        }
        let settled = unsettled == 0;
        tokio::select! {
            _ = changed => {}
            _ = keepalive.tick() => {
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break None;
                }
            }
            // Past the standard-input buffer the socket is not read until the command reads;
            // nor before every run started, so no input, signal or resize overtakes its open.
            msg = stream.next(), if input.pending.len() < STDIN_BUFFER as usize && settled => match msg {
                Some(Ok(Message::Binary(data))) if data.len() > MAX_CLIENT_MESSAGE => {
                    break refuse(&mut sink, close::TOO_BIG, "message too big (64 KiB at most)").await;
                }
                Some(Ok(Message::Text(body))) if body.len() > MAX_CLIENT_MESSAGE => {
                    break refuse(&mut sink, close::TOO_BIG, "message too big (64 KiB at most)").await;
                }
                Some(Ok(Message::Binary(data))) => {
                    if !job.stdin {
                        break refuse(&mut sink, close::MALFORMED, "this job has no standard input (start it with stdin: true)").await;
                    }
                    if input.eof {
                        break refuse(&mut sink, close::MALFORMED, "standard input was closed (eof)").await;
                    }
                    input.pending.extend(data.iter());
                }
                Some(Ok(Message::Text(body))) => {
                    if let Err(message) = control(&who, viewer, &body, &mut sink, &mut input).await {
                        break refuse(&mut sink, close::MALFORMED, &message).await;
                    }
                }
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    let msg = e.to_string();
                    if msg.contains("too long") || msg.contains("too big") || msg.contains("Space limit") {
                        break refuse(&mut sink, close::TOO_BIG, "message too big").await;
                    }
                    break None;
                }
            }
        }
    };
    job.remove_viewer(viewer);
    if let Some((code, reason)) = outcome {
        finish_close(sink, stream, code, &reason).await;
    }
}
