//! The terminal stream `WS /ws/websh/{id}` (docs/protocol.md, "websh"): `Origin` checked before
//! the upgrade, the viewer admitted (owner, `?watch=true` staff, `?ticket=` guest), then output
//! to it and its keystrokes back until exit, end, removal or disconnect.

use super::admit::{self, guest_actor, Admitted};
use crate::core::audit;
use crate::core::gateway::service;
use crate::core::gateway::terminal::Terminal;
use crate::core::gateway::viewers::{Kick, ViewerIdentity};
use crate::core::state::AppState;
use crate::error::ApiError;
use crate::extract::{finish_close, ApiPath, ApiQuery, AuthUser, WsUpgrade};
use crate::store::shares;
use axum::extract::ws::{Message, WebSocket};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::share::ParticipantRole;
use gatehouse_shared::websh::{
    close, valid_size, ClientMessage, EndReason, NoticeLevel, ServerMessage,
};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

/// Largest client → server message (keystrokes, pastes, control).
const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
/// Output bytes per frame to a viewer.
const FRAME_BYTES: usize = 32 * 1024;

#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    resume_from: Option<u64>,
    /// A guest's one-connection ticket from `POST /api/share/join`.
    ticket: Option<String>,
    /// Staff watching read-only.
    #[serde(default)]
    watch: bool,
}

/// The terminal stream (docs/protocol.md, "websh").
pub async fn websh_socket(
    State(state): State<AppState>,
    auth: Result<AuthUser, ApiError>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<StreamQuery>,
    upgrade: WsUpgrade,
) -> Response {
    let upgrade = match upgrade.client_stream() {
        Ok(upgrade) => upgrade,
        Err(refused) => return refused.into_response(),
    };
    upgrade.on_upgrade(move |socket| async move {
        let admitted = match (&q.ticket, q.watch) {
            (Some(ticket), _) => admit::guest(&state, id, ticket).await,
            (None, true) => admit::watcher(&state, auth, id).await,
            (None, false) => admit::owner(&state, auth, id).await,
        };
        match admitted {
            Ok(admitted) => view(state, socket, admitted, q.resume_from.unwrap_or(0)).await,
            Err((code, reason)) => close_socket(socket, code, &reason).await,
        }
    })
}

/// Refuses an upgraded socket before any stream starts.
async fn close_socket(socket: WebSocket, code: u16, reason: &str) {
    let (sink, stream) = socket.split();
    finish_close(sink, stream, code, reason).await;
}

fn text(msg: &ServerMessage) -> Message {
    Message::Text(serde_json::to_string(msg).unwrap_or_default().into())
}

/// Frames a read-only viewer sent that were dropped, by kind.
#[derive(Debug, Default)]
struct Dropped {
    input: u64,
    resize: u64,
    other: u64,
}

impl Dropped {
    fn total(&self) -> u64 {
        self.input + self.resize + self.other
    }
}

/// Records that a read-only viewer tried to change the terminal: the first attempt at once (so
/// it shows on the timeline while it happens), the totals when the viewer leaves.
async fn audit_dropped(state: &AppState, term: &Terminal, who: &ViewerIdentity, kind: &str) {
    let event = audit::event(AuditAction::WebshInputDropped, audit::DENIED)
        .actor(actor(who))
        .target(term.id.to_string())
        .in_session(term.work_session)
        .server(&term.server_name)
        .details(serde_json::json!({
            "websh": term.id, "participant": who.participant, "role": who.role,
            "share": who.share, "kind": kind,
        }));
    let _ = audit::record_event(state, event).await;
}

fn actor(who: &ViewerIdentity) -> String {
    match who.role {
        ParticipantRole::Guest => guest_actor(&who.name),
        ParticipantRole::Owner | ParticipantRole::Watcher => who.name.clone(),
    }
}

type Sink = SplitSink<WebSocket, Message>;

/// Sends every byte this viewer may have now; `Err` when the socket is gone.
async fn send_output(
    sink: &mut Sink,
    term: &Terminal,
    viewer: u64,
    sent: &mut u64,
) -> Result<(), ()> {
    loop {
        let (from, frame) = term.read_frame(viewer, *sent, FRAME_BYTES);
        if from > *sent {
            let notice = ServerMessage::Notice {
                level: NoticeLevel::Warn,
                text: format!("{} bytes of output were too old to resume", from - *sent),
            };
            sink.send(text(&notice)).await.map_err(drop)?;
        }
        *sent = from;
        if frame.is_empty() {
            return Ok(());
        }
        *sent += (frame.len() - 8) as u64;
        sink.send(Message::Binary(frame.into()))
            .await
            .map_err(drop)?;
    }
}

fn kick_close(kick: Kick) -> (u16, &'static str) {
    match kick {
        Kick::ShareEnded => (close::SHARE_ENDED, "the link was revoked or expired"),
        Kick::Removed => (close::REMOVED, "removed from this terminal"),
        Kick::AccountDisabled => (close::TERMINATED, "your account was disabled"),
    }
}

/// Streams the terminal to one viewer and its keystrokes back, until exit, end or disconnect.
async fn view(state: AppState, socket: WebSocket, admitted: Admitted, resume_from: u64) {
    let Admitted { term, who, until } = admitted;
    let (mut sink, mut stream) = socket.split();
    let viewer = term.add_viewer(resume_from, who.clone());
    if let Some(share) = who.share {
        // A revoke between admission and joining the viewers kicked nobody: look again.
        let revoked = shares::get(&state.db, state.workspace, share)
            .await
            .map_or(true, |row| row.is_none_or(|r| r.revoked_at.is_some()));
        if revoked {
            term.kick_share(share);
        }
    }
    if who.role == ParticipantRole::Guest {
        let mode = if who.read_only {
            "read-only"
        } else {
            "read-write"
        };
        term.announce(
            NoticeLevel::Info,
            format!("{} joined by link ({mode})", who.name),
        );
    }
    let mut notices = term.notices();
    let mut sent = resume_from;
    let mut participants_sent = None;
    let mut dropped = Dropped::default();
    let mut agent_connected = true;
    let mut keepalive = tokio::time::interval(Duration::from_secs(20));
    let link_expiry = until.map(|at| {
        let left = (at - crate::time::now()).to_std().unwrap_or_default();
        tokio::time::Instant::now() + left
    });
    let expired = tokio::time::sleep_until(link_expiry.unwrap_or_else(far_future));
    tokio::pin!(expired);
    let outcome: Option<(u16, &str)> = 'serve: loop {
        let changed = term.changed();
        if let Some(kick) = term.kicked(viewer) {
            break Some(kick_close(kick));
        }
        let snap = term.snapshot();
        if snap.agent_connected != agent_connected && snap.exit.is_none() && snap.ended.is_none() {
            agent_connected = snap.agent_connected;
            let notice = if agent_connected {
                ServerMessage::Notice {
                    level: NoticeLevel::Info,
                    text: "the server's agent is back".into(),
                }
            } else {
                ServerMessage::Notice {
                    level: NoticeLevel::Warn,
                    text: "the server's agent disconnected; waiting for it to come back".into(),
                }
            };
            if sink.send(text(&notice)).await.is_err() {
                break 'serve None;
            }
        }
        if participants_sent != Some(term.participants_version()) {
            let (version, items) = term.participants();
            participants_sent = Some(version);
            if sink
                .send(text(&ServerMessage::Participants { items }))
                .await
                .is_err()
            {
                break 'serve None;
            }
        }
        if send_output(&mut sink, &term, viewer, &mut sent)
            .await
            .is_err()
        {
            break 'serve None;
        }
        if let Some(reason) = snap.ended {
            let _ = sink.send(text(&ServerMessage::Ended { reason })).await;
            let code = if reason == EndReason::Terminated {
                close::TERMINATED
            } else {
                close::WORK_SESSION_ENDED
            };
            break Some((code, service::end_reason_text(reason)));
        }
        if let Some(code) = snap.exit {
            if sent >= snap.end {
                let _ = sink.send(text(&ServerMessage::Exit { code })).await;
                break Some((close::SHELL_EXITED, "shell exited"));
            }
        }
        tokio::select! {
            _ = changed => {}
            _ = &mut expired, if link_expiry.is_some() => {
                let notice = ServerMessage::Notice { level: NoticeLevel::Warn, text: "the link has expired".into() };
                let _ = sink.send(text(&notice)).await;
                break Some((close::SHARE_ENDED, "the link has expired"));
            }
            notice = notices.recv() => match notice {
                Ok((level, body)) => {
                    if sink.send(text(&ServerMessage::Notice { level, text: body })).await.is_err() {
                        break None;
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                // The terminal holds the sender as long as this viewer holds the terminal.
                Err(RecvError::Closed) => break None,
            },
            _ = keepalive.tick() => {
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break None;
                }
            }
            msg = stream.next() => match msg {
                Some(Ok(Message::Binary(data))) if data.len() > MAX_CLIENT_MESSAGE => {
                    break Some((close::TOO_BIG, "message too big"));
                }
                Some(Ok(Message::Text(body))) if body.len() > MAX_CLIENT_MESSAGE => {
                    break Some((close::TOO_BIG, "message too big"));
                }
                Some(Ok(Message::Binary(_))) if who.read_only => {
                    dropped.input += 1;
                    if dropped.total() == 1 {
                        audit_dropped(&state, &term, &who, "input").await;
                    }
                }
                Some(Ok(Message::Binary(input))) => {
                    if term.input(&input, &who).await.is_err() {
                        service::finalize(&state, &term).await;
                    }
                }
                Some(Ok(Message::Text(body))) => match serde_json::from_str::<ClientMessage>(&body) {
                    Ok(ClientMessage::Resize { .. }) if who.read_only => {
                        dropped.resize += 1;
                        if dropped.total() == 1 {
                            audit_dropped(&state, &term, &who, "resize").await;
                        }
                    }
                    Ok(ClientMessage::Resize { cols, rows }) if valid_size(cols, rows) => term.resize(cols, rows).await,
                    Ok(ClientMessage::Ack { offset }) => {
                        if !term.viewer_ack(viewer, offset) {
                            service::finalize(&state, &term).await;
                        }
                    }
                    Ok(ClientMessage::Ping) => {
                        if sink.send(text(&ServerMessage::Pong)).await.is_err() {
                            break None;
                        }
                    }
                    // A bad message closes this viewer only.
                    _ => break Some((1008, "malformed control message")),
                },
                Some(Ok(Message::Close(_))) | None => break None,
                // Pongs answer our pings; anything else from a read-only viewer is dropped.
                Some(Ok(Message::Pong(_))) => {}
                Some(Ok(_)) if who.read_only => {
                    dropped.other += 1;
                    if dropped.total() == 1 {
                        audit_dropped(&state, &term, &who, "other").await;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    let msg = e.to_string();
                    if msg.contains("too long") || msg.contains("too big") || msg.contains("Space limit") {
                        break Some((close::TOO_BIG, "message too big"));
                    }
                    break None;
                }
            }
        }
    };
    if !term.remove_viewer(viewer) {
        service::finalize(&state, &term).await;
    }
    if who.role != ParticipantRole::Owner {
        left(&state, &term, &who, &dropped, outcome.map(|(c, _)| c)).await;
    }
    if let Some((code, reason)) = outcome {
        finish_close(sink, stream, code, reason).await;
    }
}

/// A guest or watcher left: when, why and what of theirs was dropped.
async fn left(
    state: &AppState,
    term: &Arc<Terminal>,
    who: &ViewerIdentity,
    dropped: &Dropped,
    close_code: Option<u16>,
) {
    let event = audit::event(AuditAction::WebshViewerLeft, audit::SUCCESS)
        .actor(actor(who))
        .target(term.id.to_string())
        .in_session(term.work_session)
        .server(&term.server_name)
        .details(serde_json::json!({
            "websh": term.id, "participant": who.participant, "role": who.role,
            "share": who.share, "close_code": close_code,
            "dropped": {"input": dropped.input, "resize": dropped.resize, "other": dropped.other},
        }));
    let _ = audit::record_event(state, event).await;
}

/// A deadline that never comes (for viewers without a link expiry).
fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600)
}
