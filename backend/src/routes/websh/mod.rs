//! Browser terminals: `POST /api/websh` (behind the gate), ending one, and the recording. The
//! `WS /ws/websh/{id}` stream is in `socket`, links and oversight in `share`, `join` and `live`.

mod admit;
pub mod join;
pub mod live;
pub mod share;
mod socket;

use crate::core::audit::{self, SUCCESS};
use crate::core::gateway::hub::CapReached;
use crate::core::gateway::recording::{self, Recorder};
use crate::core::gateway::service;
use crate::core::gateway::terminal::{Terminal, TerminalInfo};
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use crate::gatekeeper;
use crate::store::websh::{self, Authority};
use crate::store::WriteTx;
use crate::time::now;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use gatehouse_shared::agent_link::ChannelId;
use gatehouse_shared::audit::{AuditAction, WebshDetails};
use gatehouse_shared::websh::{valid_size, EndReason, OpenWebsh, OpenedWebsh};
use gatehouse_shared::{ErrorCode, ErrorEnvelope, Scope};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(share::router())
        .merge(join::router())
        .merge(live::router())
        .route("/api/websh", post(open_websh))
        .route("/api/websh/{id}", axum::routing::delete(terminate))
        .route("/api/websh/{id}/recording", get(recording))
        .route("/ws/websh/{id}", get(socket::websh_socket))
}

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
    let (server, link) = gatekeeper::target(&state, &req.server).await?;
    let decided = gatekeeper::run_as(
        &gatekeeper::person(&state, &auth).await?,
        &req.server,
        req.user.as_deref(),
        link.as_ref(),
    );
    let op = decided.operation(Scope::Websh, &req.server);
    let run_as = decided.user.clone();
    let pass = gatekeeper::pass(&state, &auth, &headers, &op, decided).await?;
    // Elevation: a root terminal needs step-up MFA and, in a session that declared root
    // commands, a declared lone `*` (a shell runs anything).
    let terminal = crate::core::elevation::Ask::Terminal;
    gatekeeper::elevate(&state, &auth, &pass, &op, terminal, None, false).await?;
    // A person's terminal rides on their work session; an API token's on the token, whose ACLs
    // the gate just weighed (a command rule of a lone `*` for this account).
    let authority = match (pass.session(), auth.token) {
        (Some(session), _) => Authority::WorkSession(session.id),
        (None, Some(token)) => Authority::Token(token),
        (None, None) => return Err(ApiError::forbidden("terminals need a work session")),
    };
    let (Some(server), Some(link)) = (server, link) else {
        return Err(ApiError::conflict(format!(
            "server {} is not connected; its agent is offline",
            req.server
        )));
    };
    let slot = state
        .hub
        .reserve_terminal(
            auth.id,
            link.server_id,
            state.config.max_terminals_per_user,
            state.config.max_terminals_per_agent,
        )
        .map_err(|cap| {
            let message = match cap {
                CapReached::PerUser => format!(
                    "at most {} open terminals per user",
                    state.config.max_terminals_per_user
                ),
                CapReached::PerServer => {
                    format!(
                        "server {} carries its maximum of open terminals",
                        req.server
                    )
                }
            };
            ApiError::new(ErrorCode::RateLimited, message)
        })?;

    let id = Uuid::new_v4();
    let file = recording::file_name(id);
    let title = format!("{}@{}", auth.username, req.server);
    let recorder = Recorder::create(&state.recording_path(&file), req.cols, req.rows, &title)
        .map_err(|e| {
            tracing::error!(error = %e, "cannot create a recording");
            ApiError::internal()
        })?;
    // The terminal's row and its "opened" event land together, before the agent is asked:
    // a PTY the agent starts is then always one the store knows, even across a crash, and a
    // refusal from the agent is recorded as this terminal's end.
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    websh::insert(
        &mut tx,
        &websh::NewWebsh {
            id,
            authority,
            server_id: link.server_id,
            server_name: &server.name,
            user: auth.id,
            run_as: run_as.as_deref(),
            cols: req.cols,
            rows: req.rows,
            recording: &file,
        },
    )
    .await?;
    tx.commit(
        audit::event(AuditAction::WebshOpened, SUCCESS)
            .actor(&auth.username)
            .target(id.to_string())
            .in_session(authority.work_session())
            .server(&server.name)
            .details(audit::typed(&WebshDetails::Opened {
                websh: id,
                run_as: run_as.clone(),
                cols: req.cols,
                rows: req.rows,
                recording: WebshDetails::recording_path(id),
            })),
    )
    .await?;
    let info = TerminalInfo {
        id: ChannelId(id),
        work_session: authority.work_session(),
        token: authority.token(),
        owner: auth.id,
        owner_name: auth.username.clone(),
        server_id: link.server_id,
        server_name: server.name.clone(),
        run_as: run_as.clone(),
        started_at: now(),
    };
    let term = Terminal::new(info, recorder, 0, Vec::new());
    state.hub.add_terminal(term.clone(), slot);
    link.attach_terminal(&term);
    if let Err(message) = link.open_pty(ChannelId(id), pass, req.cols, req.rows).await {
        term.end(EndReason::Terminated);
        service::finalize(&state, &term).await;
        return Err(ApiError::conflict(format!(
            "the agent could not start a terminal: {message}"
        )));
    }
    // The session may have ended while the shell started.
    crate::core::gateway::watcher::check_terminal(&state, &term).await;
    Ok((
        StatusCode::CREATED,
        Json(OpenedWebsh {
            id,
            ws_path: format!("/ws/websh/{id}"),
        }),
    ))
}

/// How the recording is served.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordingQuery {
    /// `true`: as an attachment named `<server>-<started>-<id>.cast`, for saving.
    #[serde(default)]
    pub download: bool,
}

/// The terminal's recording as asciicast v2 (the owner, or staff and above).
#[utoipa::path(get, path = "/api/websh/{id}/recording", tag = "websh",
    params(("id" = String, Path, description = "terminal id"), RecordingQuery),
    responses((status = 200, content_type = "application/x-asciicast"), (status = 404, body = ErrorEnvelope)))]
pub async fn recording(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<RecordingQuery>,
) -> ApiResult<Response> {
    let row = websh::get(&state.db, state.workspace, id)
        .await?
        .filter(|r| auth.role.is_staff_or_above() || r.user_id == auth.id.to_string())
        .ok_or_else(|| ApiError::not_found("recording"))?;
    let bytes = tokio::fs::read(state.recording_path(&row.recording))
        .await
        .map_err(|_| ApiError::not_found("recording"))?;
    let mut response = (
        [(header::CONTENT_TYPE, "application/x-asciicast")],
        Body::from(bytes),
    )
        .into_response();
    if q.download {
        // The server name is a DNS-like label (letters, digits, `-`, `.`), safe in a header;
        // anything else is replaced all the same.
        let server: String = row
            .server_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let started = crate::time::from_micros(row.created_at).format("%Y%m%d-%H%M%S");
        let disposition = format!("attachment; filename=\"{server}-{started}-{id}.cast\"");
        if let Ok(value) = header::HeaderValue::from_str(&disposition) {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
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
        .filter(|t| t.is_live())
        .ok_or_else(|| ApiError::not_found("live terminal"))?;
    term.end(EndReason::Terminated);
    let audited = audit::record_event(
        &state,
        audit::event(AuditAction::WebshTerminated, SUCCESS)
            .actor(&auth.username)
            .target(id.to_string())
            .in_session(term.work_session)
            .server(&term.server_name)
            .details(serde_json::json!({ "websh": id, "owner": term.owner_name })),
    )
    .await;
    // The shell is already gone: record its end whatever became of the audit write.
    service::finalize(&state, &term).await;
    audited?;
    Ok(StatusCode::NO_CONTENT)
}
