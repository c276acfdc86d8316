//! Serving one agent link: hello, presence, re-attaching terminals, routing frames, keepalive.
//! A bad frame closes this link only; every other link and terminal keeps going.

use crate::core::audit::{self, SUCCESS};
use crate::core::gateway::capture::RunEnd;
use crate::core::gateway::files::ChannelEnd;
use crate::core::gateway::hub::{AgentLink, Channel, LinkError};
use crate::core::gateway::{service, tunnel};
use crate::core::state::AppState;
use crate::store::audit::NewEvent;
use crate::store::{servers, websh, StoreError, WriteTx};
use crate::time::now;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use gatehouse_shared::agent_link::{
    decode_data, split_offset, AgentMessage, ChannelId, DataKind, GatewayMessage, LivePty,
    PROTOCOL_VERSION,
};
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::exec_stream::StreamName;
use gatehouse_shared::websh::EndReason;
use gatehouse_shared::ServerId;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Close codes of the agent link.
pub mod close {
    pub const PROTOCOL: u16 = 1002;
    pub const UNSUPPORTED: u16 = 1003;
    pub const TOO_BIG: u16 = 1009;
    pub const DUPLICATE: u16 = 4009;
    pub const VERSION: u16 = 4426;
}

async fn close_with(mut socket: WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.to_owned().into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// Serves an authenticated agent's socket until it closes.
pub async fn serve(
    state: AppState,
    mut socket: WebSocket,
    server_id: ServerId,
    server_name: String,
) {
    let hello = match tokio::time::timeout(Duration::from_secs(10), socket.recv()).await {
        Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str::<AgentMessage>(&text).ok(),
        _ => None,
    };
    let Some(AgentMessage::Hello {
        version,
        privileged,
        ptys,
        hostname,
        capabilities,
        ..
    }) = hello
    else {
        return close_with(socket, close::PROTOCOL, "expected hello").await;
    };
    if version != PROTOCOL_VERSION {
        let reason =
            format!("protocol version {version} is not supported (want {PROTOCOL_VERSION})");
        return close_with(socket, close::VERSION, &reason).await;
    }
    let (sink, mut stream) = socket.split();
    let sink = Arc::new(tokio::sync::Mutex::new(sink));
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let link = Arc::new(AgentLink::new(
        server_id,
        server_name.clone(),
        privileged,
        capabilities,
        tx,
        sink.clone(),
    ));
    if !state.hub.add_link(link.clone()) {
        let frame = CloseFrame {
            code: close::DUPLICATE,
            reason: "already connected".into(),
        };
        let _ = sink.lock().await.send(Message::Close(Some(frame))).await;
        return;
    }
    tracing::info!(server = %server_name, %hostname, "agent connected");
    record_presence(
        &state,
        server_id,
        true,
        audit::event(AuditAction::AgentConnected, SUCCESS)
            .target(&server_name)
            .server(&server_name)
            .details(serde_json::json!({"hostname": hostname, "privileged": privileged})),
    )
    .await;

    let every = state.config.agent_keepalive;
    let writer_sink = sink.clone();
    let writer = tokio::spawn(async move {
        let mut keepalive = tokio::time::interval(every);
        loop {
            let msg = tokio::select! {
                msg = rx.recv() => match msg { Some(m) => m, None => break },
                _ = keepalive.tick() => Message::Ping(Vec::new().into()),
            };
            let closing = matches!(msg, Message::Close(_));
            if writer_sink.lock().await.send(msg).await.is_err() || closing {
                break;
            }
        }
        let _ = writer_sink.lock().await.close().await;
    });

    link.send(&GatewayMessage::Welcome {
        version: PROTOCOL_VERSION,
        server_name: server_name.clone(),
    })
    .await;
    reattach(&state, &link, &ptys).await;

    let idle = every * 3;
    let mut last_seen_written = std::time::Instant::now();
    loop {
        let frame = match tokio::time::timeout(idle, stream.next()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(Some(Err(e))) => {
                let text = e.to_string();
                if text.contains("too long")
                    || text.contains("too big")
                    || text.contains("Space limit")
                {
                    link.try_close(close::TOO_BIG, "message too big");
                }
                tracing::warn!(server = %server_name, error = %text, "agent link error");
                break;
            }
            Ok(None) => break,
            Err(_) => {
                tracing::warn!(server = %server_name, "agent link idle; dropping it");
                break;
            }
        };
        if last_seen_written.elapsed() > every {
            last_seen_written = std::time::Instant::now();
            if let Err(e) =
                servers::touch_last_seen(&state.db, state.workspace, server_id, now()).await
            {
                tracing::warn!(server = %server_name, error = %e, "cannot update last seen");
            }
        }
        let ok = match frame {
            Message::Text(text) => match serde_json::from_str::<AgentMessage>(&text) {
                Ok(msg) => handle_control(&state, &link, msg).await,
                Err(_) => false,
            },
            Message::Binary(data) => handle_data(&state, &link, data),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => true,
        };
        if !ok {
            tracing::warn!(server = %server_name, "protocol violation on the agent link; closing it");
            link.try_close(close::UNSUPPORTED, "protocol violation");
            break;
        }
    }

    state.hub.remove_link(&link);
    for channel in link.drain() {
        match channel {
            // The PTY lives on the agent for its grace period; a new link re-attaches it.
            Channel::Pty(term) => term.detach_link(&link),
            Channel::Exec(run) => run.finish(RunEnd::Failed(
                "the agent disconnected before the command finished".into(),
            )),
            Channel::File(file) => file.end(ChannelEnd::LinkLost),
            Channel::Tunnel(conn) => conn.on_closed(Some("the agent disconnected".into())),
        }
    }
    record_presence(
        &state,
        server_id,
        false,
        audit::event(AuditAction::AgentDisconnected, SUCCESS)
            .target(&server_name)
            .server(&server_name),
    )
    .await;
    tracing::info!(server = %server_name, "agent disconnected");
    // Let queued frames (a close) go out, then stop the writer.
    drop(link);
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
}

/// Re-attaches the terminals the agent still has, ends the ones it lost, closes unknown ones.
async fn reattach(state: &AppState, link: &Arc<AgentLink>, ptys: &[LivePty]) {
    let reported: HashSet<ChannelId> = ptys.iter().map(|p| p.channel).collect();
    // Terminals this gateway holds for the server that the agent no longer has.
    for term in state.hub.terminals_on(link.server_id) {
        if !reported.contains(&term.id) {
            term.end(EndReason::Terminated);
            service::finalize(state, &term).await;
        }
    }
    for pty in ptys {
        let mut term = state
            .hub
            .terminal(pty.channel)
            .filter(|t| t.server_id == link.server_id);
        if term.is_none() {
            // After a gateway restart: the store still knows the terminal if it never ended.
            if let Ok(Some(row)) = websh::get(&state.db, state.workspace, pty.channel.0).await {
                if row.ended_at.is_none() && row.server_id == link.server_id.to_string() {
                    term = service::restore(state, &row);
                }
            }
        }
        match term {
            Some(term) => {
                link.attach_terminal(&term);
                let from = term.recorded_end();
                link.send(&GatewayMessage::Attach {
                    channel: pty.channel,
                    from_offset: from,
                })
                .await;
                tracing::info!(terminal = %pty.channel, from, "terminal re-attached");
                // A session that ended while the gateway was away ends its terminal now.
                crate::core::gateway::watcher::check_terminal(state, &term).await;
            }
            None => {
                link.send(&GatewayMessage::Close {
                    channel: pty.channel,
                })
                .await;
            }
        }
    }
}

async fn handle_control(state: &AppState, link: &Arc<AgentLink>, msg: AgentMessage) -> bool {
    match msg {
        AgentMessage::Hello { .. } => return false,
        AgentMessage::Opened { channel } => {
            link.resolve_open(channel, Ok(()));
        }
        // Only for a channel of this link: an agent cannot fill the log with made-up accounts.
        AgentMessage::Provisioned {
            channel,
            user,
            groups,
        } if link.knows(channel) => {
            tracing::info!(server = %link.server_name, account = %user, "agent created an account");
            let mut details = serde_json::json!({ "account": user, "channel": channel });
            // Rows written before groups existed keep their shape (and hash).
            if !groups.is_empty() {
                details["groups"] = serde_json::json!(groups);
            }
            let event = audit::event(AuditAction::AgentUserProvisioned, SUCCESS)
                .target(&user)
                .server(&link.server_name)
                .details(details);
            let _ = audit::record_event(state, event).await;
        }
        AgentMessage::Provisioned { .. } => return false,
        AgentMessage::OpenFailed { channel, message } => {
            if !link.resolve_open(channel, Err(LinkError::Refused(message.clone()))) {
                match link.remove(channel) {
                    // A re-attach the agent could not honour: the PTY is gone.
                    Some(Channel::Pty(term)) => {
                        term.end(EndReason::Terminated);
                        service::finalize(state, &term).await;
                    }
                    Some(Channel::Exec(run)) => run.finish(RunEnd::Failed(message)),
                    Some(Channel::File(file)) => file.end(ChannelEnd::Protocol),
                    Some(Channel::Tunnel(conn)) => conn.on_closed(Some(message)),
                    None => {}
                }
            }
        }
        AgentMessage::Exited { channel, code } => {
            if let Some(term) = link.pty(channel) {
                term.exited(code.unwrap_or(-1));
                service::finalize(state, &term).await;
            }
        }
        AgentMessage::ExecDone {
            channel,
            exit_code,
            timed_out,
            duration_ms,
            signal,
        } => {
            if let Some(run) = link.take_exec(channel) {
                run.finish(RunEnd::Done {
                    exit_code,
                    timed_out,
                    duration_ms,
                    signal,
                });
            }
        }
        AgentMessage::StdinCredit { channel, offset } => {
            if let Some(run) = link.exec(channel) {
                run.on_stdin_credit(offset);
            }
        }
        // Replies and credit for channels that already ended are dropped.
        AgentMessage::FileReply { channel, reply } => {
            if let Some(file) = link.file(channel) {
                file.on_reply(reply);
            }
        }
        AgentMessage::FileCredit { channel, offset } => {
            if let Some(file) = link.file(channel) {
                file.on_credit(offset);
            }
        }
        msg @ (AgentMessage::TunnelCredit { .. } | AgentMessage::TunnelClosed { .. }) => {
            tunnel::on_control(link, msg)
        }
    }
    true
}

fn handle_data(state: &AppState, link: &Arc<AgentLink>, frame: Bytes) -> bool {
    let Some((channel, kind, payload)) = decode_data(&frame) else {
        return false;
    };
    let Some((offset, bytes)) = split_offset(payload) else {
        return false;
    };
    match kind {
        // Handed on without a copy or a wait: the reader must get back to terminal frames.
        DataKind::FileData => {
            if let Some(file) = link.file(channel) {
                let start = frame.len() - bytes.len();
                if !file.on_data(offset, frame.slice(start..)) {
                    tracing::warn!(channel = %channel, "file data beyond its credit; ending the channel");
                    link.remove(channel);
                    link.try_send(&GatewayMessage::Close { channel });
                    file.end(ChannelEnd::Protocol);
                }
            }
        }
        DataKind::PtyOutput => {
            if let Some(term) = link.pty(channel) {
                if let Some(fresh) = term.on_output(offset, bytes) {
                    // Recording only buffers here (no system call on a keystroke's echo path);
                    // the viewers, woken above, send as soon as this task is done with it.
                    if !term.record_output(fresh) {
                        let state = state.clone();
                        tokio::spawn(async move { service::finalize(&state, &term).await });
                    }
                }
            }
        }
        DataKind::Stdout | DataKind::Stderr => {
            if let Some(run) = link.exec(channel) {
                let stream = if kind == DataKind::Stdout {
                    StreamName::Stdout
                } else {
                    StreamName::Stderr
                };
                run.on_output(stream, offset, bytes);
            }
        }
        DataKind::TunnelData => {
            tunnel::on_data(link, channel, offset, &frame, frame.len() - bytes.len())
        }
        DataKind::Input => return false,
    }
    true
}

/// Writes the server's presence with the event of its link going up or down, together. A
/// failure is logged and the link carries on: refusing an agent because the log is briefly
/// unwritable would take the server out of reach exactly when someone needs it.
async fn record_presence(state: &AppState, server_id: ServerId, connected: bool, event: NewEvent) {
    let written: Result<_, StoreError> = async {
        let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
        servers::set_presence(&mut tx, server_id, connected).await?;
        tx.commit(event).await
    }
    .await;
    if let Err(e) = written {
        tracing::error!(error = %e, connected, "cannot record the agent link's presence");
    }
}
