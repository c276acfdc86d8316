//! Browser terminals: `POST /api/websh` (behind the gate), the `WS /ws/websh/{id}` stream, and
//! the recording.

use crate::audit::{self, SUCCESS};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use crate::gateway::recording::Recorder;
use crate::gateway::service;
use crate::gateway::terminal::{Terminal, TerminalInfo};
use crate::routes::gate::{authorize, effective_run_as};
use crate::state::AppState;
use crate::store::{servers, websh, work_sessions};
use crate::time::now;
use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use gatehouse_shared::agent_link::{ChannelId, GatewayMessage};
use gatehouse_shared::gate::{self, Operation};
use gatehouse_shared::websh::{
    close, encode_output, valid_size, ClientMessage, EndReason, NoticeLevel, OpenWebsh,
    OpenedWebsh, ServerMessage,
};
use gatehouse_shared::{ErrorCode, ErrorEnvelope, Scope};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/websh", post(open_websh))
        .route("/api/websh/{id}", axum::routing::delete(terminate))
        .route("/api/websh/{id}/recording", get(recording))
        .route("/ws/websh/{id}", get(websh_socket))
}

/// Largest client → server message (keystrokes, pastes, control).
const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
/// Output bytes per frame to a viewer.
const FRAME_BYTES: usize = 32 * 1024;

/// Open a terminal on a server inside the caller's work session (scope `websh`; `sudo` too
/// when it runs as root).
#[utoipa::path(post, path = "/api/websh", tag = "websh", request_body = OpenWebsh,
    responses((status = 201, body = OpenedWebsh), (status = 403, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
pub async fn open_websh(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiJson(req): ApiJson<OpenWebsh>,
) -> ApiResult<(StatusCode, Json<OpenedWebsh>)> {
    if !valid_size(req.cols, req.rows) {
        return Err(ApiError::validation(
            "cols",
            "cols and rows must be between 1 and 1000",
        ));
    }
    let server = servers::by_name(&state.db, state.workspace, &req.server).await?;
    let link = server
        .as_ref()
        .and_then(|s| s.server_id().ok())
        .and_then(|id| state.hub.link(id));
    let run_as = effective_run_as(
        req.user.as_deref(),
        link.as_ref().is_some_and(|l| l.privileged),
    );
    let op = Operation {
        scope: Scope::Websh,
        server: &req.server,
        as_root: gate::runs_as_root(run_as.as_deref()),
    };
    let session = authorize(&state, &auth, &headers, &op, false)
        .await?
        .ok_or_else(|| ApiError::forbidden("terminals need a work session"))?;
    let (Some(server), Some(link)) = (server, link) else {
        return Err(ApiError::conflict(format!(
            "server {} is not connected; its agent is offline",
            req.server
        )));
    };
    let open_for_user = state.hub.terminals_count(|t| {
        t.owner == auth.id && t.snapshot().ended.is_none() && t.snapshot().exit.is_none()
    });
    if open_for_user >= state.config.max_terminals_per_user {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "at most {} open terminals per user",
                state.config.max_terminals_per_user
            ),
        ));
    }
    if state.hub.terminals_on(link.server_id).len() >= state.config.max_terminals_per_agent {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "server {} carries its maximum of open terminals",
                req.server
            ),
        ));
    }

    let id = Uuid::new_v4();
    let file = format!("{id}.cast");
    let title = format!("{}@{}", auth.username, req.server);
    let recorder = Recorder::create(&state.recording_path(&file), req.cols, req.rows, &title)
        .map_err(|e| {
            tracing::error!(error = %e, "cannot create a recording");
            ApiError::internal()
        })?;
    websh::insert(
        &state.db,
        state.workspace,
        &websh::NewWebsh {
            id,
            work_session: session.id,
            server_id: link.server_id,
            server_name: &server.name,
            user: auth.id,
            run_as: run_as.as_deref(),
            cols: req.cols,
            rows: req.rows,
            recording: &file,
        },
        now(),
    )
    .await?;
    let info = TerminalInfo {
        id: ChannelId(id),
        work_session: session.id,
        owner: auth.id,
        owner_name: auth.username.clone(),
        server_id: link.server_id,
        server_name: server.name.clone(),
        run_as: run_as.clone(),
    };
    let term = Terminal::new(info, recorder, 0, Vec::new());
    state.hub.add_terminal(term.clone());
    term.attach_link(link.clone());
    let open = GatewayMessage::OpenPty {
        channel: ChannelId(id),
        cols: req.cols,
        rows: req.rows,
        user: req.user.clone(),
        env: Vec::new(),
        allow_root: session.has_scope(Scope::Sudo),
    };
    if let Err(message) = link.open(ChannelId(id), &open).await {
        term.end(EndReason::Terminated);
        service::finalize(&state, &term).await;
        return Err(ApiError::conflict(format!(
            "the agent could not start a terminal: {message}"
        )));
    }
    audit::record(
        &state,
        audit::event("websh.opened", SUCCESS)
            .actor(&auth.username)
            .target(id.to_string())
            .work_session(session.id)
            .server(&server.name)
            .details(serde_json::json!({
                "websh": id, "run_as": run_as, "cols": req.cols, "rows": req.rows,
                "recording": format!("/api/websh/{id}/recording"),
            })),
    )
    .await?;
    // The session may have ended while the shell started.
    crate::gateway::watcher::check_terminal(&state, &term).await;
    Ok((
        StatusCode::CREATED,
        Json(OpenedWebsh {
            id,
            ws_path: format!("/ws/websh/{id}"),
        }),
    ))
}

/// The terminal's recording as asciicast v2 (the owner, or staff and above).
#[utoipa::path(get, path = "/api/websh/{id}/recording", tag = "websh",
    params(("id" = String, Path, description = "terminal id")),
    responses((status = 200, content_type = "application/x-asciicast"), (status = 404, body = ErrorEnvelope)))]
pub async fn recording(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let row = websh::get(&state.db, state.workspace, id)
        .await?
        .filter(|r| auth.role.is_staff_or_above() || r.user_id == auth.id.to_string())
        .ok_or_else(|| ApiError::not_found("recording"))?;
    let bytes = tokio::fs::read(state.recording_path(&row.recording))
        .await
        .map_err(|_| ApiError::not_found("recording"))?;
    Ok((
        [(header::CONTENT_TYPE, "application/x-asciicast")],
        Body::from(bytes),
    )
        .into_response())
}

/// End a live terminal: its owner closing the tab, or staff stepping in. The shell is killed on
/// the agent and every viewer gets `ended{terminated}` and close code 4011.
#[utoipa::path(delete, path = "/api/websh/{id}", tag = "websh",
    params(("id" = Uuid, Path, description = "The terminal")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn terminate(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    let term = state
        .hub
        .terminal(ChannelId(id))
        .filter(|t| auth.role.is_staff_or_above() || t.owner == auth.id)
        // An ended terminal may linger in the hub until its end is written; it is not live.
        .filter(|t| {
            let snap = t.snapshot();
            snap.ended.is_none() && snap.exit.is_none()
        })
        .ok_or_else(|| ApiError::not_found("live terminal"))?;
    term.end(EndReason::Terminated);
    let audited = audit::record(
        &state,
        audit::event("websh.terminated", SUCCESS)
            .actor(&auth.username)
            .target(id.to_string())
            .work_session(term.work_session)
            .server(&term.server_name)
            .details(serde_json::json!({ "websh": id, "owner": term.owner_name })),
    )
    .await;
    // The shell is already gone: record its end whatever became of the audit write.
    service::finalize(&state, &term).await;
    audited?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct ResumeQuery {
    resume_from: Option<u64>,
}

/// Browsers always send `Origin` on a WebSocket; it must be this server's own. Non-browser
/// clients (the CLI) send none and authenticate with a bearer token or their own cookie.
fn origin_allowed(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(host)) = (
        origin.to_str(),
        headers.get(header::HOST).and_then(|h| h.to_str().ok()),
    ) else {
        return false;
    };
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

/// The terminal stream (API.md "The websh stream").
pub async fn websh_socket(
    State(state): State<AppState>,
    auth: Result<AuthUser, ApiError>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ResumeQuery>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if !origin_allowed(&headers) {
        return ApiError::forbidden("cross-origin WebSocket refused").into_response();
    }
    let Ok(upgrade) = upgrade else {
        return ApiError::bad_request("this endpoint speaks WebSocket only").into_response();
    };
    upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| async move {
            match admit(&state, auth, id).await {
                Ok(term) => view(state, socket, term, q.resume_from.unwrap_or(0)).await,
                Err((code, reason)) => close_socket(socket, code, &reason).await,
            }
        })
}

async fn close_socket(mut socket: WebSocket, code: u16, reason: &str) {
    // Close reasons are limited to 123 bytes.
    let reason: String = reason.chars().take(100).collect();
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if socket.send(Message::Close(Some(frame))).await.is_ok() {
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(msg)) = socket.recv().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// Who may attach: the terminal's owner, while the gate still says yes.
async fn admit(
    state: &AppState,
    auth: Result<AuthUser, ApiError>,
    id: Uuid,
) -> Result<Arc<Terminal>, (u16, String)> {
    let auth = auth.map_err(|e| (close::UNAUTHENTICATED, e.0.message))?;
    let not_found = || (close::NOT_FOUND, "no such terminal".to_owned());
    let term = state.hub.terminal(ChannelId(id)).ok_or_else(not_found)?;
    if term.owner != auth.id {
        return Err(not_found());
    }
    let session = work_sessions::get(&state.db, state.workspace, term.work_session)
        .await
        .map_err(|_| {
            (
                close::GATE_DENIED,
                "cannot read the work session".to_owned(),
            )
        })?;
    let op = Operation {
        scope: Scope::Websh,
        server: &term.server_name,
        as_root: gate::runs_as_root(term.run_as.as_deref()),
    };
    if let Err(denial) = gate::check(&op, &auth.principal(), session.as_ref(), false, now()) {
        let event = audit::event("gate.denied", audit::DENIED)
            .actor(&auth.username)
            .server(&term.server_name)
            .work_session(term.work_session)
            .details(serde_json::json!({"error_code": denial.code, "scope": "websh", "websh": id, "attach": true}));
        let _ = audit::record(state, event).await;
        return Err((close::GATE_DENIED, denial.message));
    }
    Ok(term)
}

fn text(msg: &ServerMessage) -> Message {
    Message::Text(serde_json::to_string(msg).unwrap_or_default().into())
}

/// Streams the terminal to one viewer and its keystrokes back, until exit, end or disconnect.
async fn view(state: AppState, socket: WebSocket, term: Arc<Terminal>, resume_from: u64) {
    let (mut sink, mut stream) = socket.split();
    let viewer = term.add_viewer(resume_from);
    let mut sent = resume_from;
    let mut agent_connected = true;
    let mut keepalive = tokio::time::interval(Duration::from_secs(20));
    let outcome: Option<(u16, &str)> = 'serve: loop {
        let changed = term.changed();
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
        loop {
            let (from, bytes) = term.read(viewer, sent, FRAME_BYTES);
            if from > sent {
                let notice = ServerMessage::Notice {
                    level: NoticeLevel::Warn,
                    text: format!("{} bytes of output were too old to resume", from - sent),
                };
                if sink.send(text(&notice)).await.is_err() {
                    break 'serve None;
                }
            }
            sent = from;
            if bytes.is_empty() {
                break;
            }
            sent += bytes.len() as u64;
            if sink
                .send(Message::Binary(encode_output(from, &bytes).into()))
                .await
                .is_err()
            {
                break 'serve None;
            }
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
            _ = keepalive.tick() => {
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break None;
                }
            }
            msg = stream.next() => match msg {
                Some(Ok(Message::Binary(input))) => {
                    term.input(&input).await;
                }
                Some(Ok(Message::Text(body))) => match serde_json::from_str::<ClientMessage>(&body) {
                    Ok(ClientMessage::Resize { cols, rows }) if valid_size(cols, rows) => term.resize(cols, rows).await,
                    Ok(ClientMessage::Ack { offset }) => term.viewer_ack(viewer, offset),
                    Ok(ClientMessage::Ping) => {
                        if sink.send(text(&ServerMessage::Pong)).await.is_err() {
                            break None;
                        }
                    }
                    // A bad message closes this viewer only.
                    _ => break Some((1008, "malformed control message")),
                },
                Some(Ok(Message::Close(_))) | None => break None,
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
    term.remove_viewer(viewer);
    if let Some((code, reason)) = outcome {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        if sink.send(Message::Close(Some(frame))).await.is_ok() {
            // Wait (briefly) for the client's close reply: dropping the socket with unread
            // acks in flight would reset the connection and lose the close frame.
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while let Some(Ok(msg)) = stream.next().await {
                    if matches!(msg, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
    }
    drop(state);
}
