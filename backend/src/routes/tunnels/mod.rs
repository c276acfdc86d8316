//! TCP tunnels: open one (`POST /api/tunnels`: the gate for scope `tunnel`, then the session's
//! `tunnel_ports` and the server entry's `tunnel_allow`), list the live ones with their
//! connections and bytes (the owner's own; staff see all), end one, and carry it
//! (`WS /ws/tunnels/{id}`, in `socket`).

mod carrier;
pub mod socket;

use crate::core::state::AppState;
use crate::core::tunnels::{self, Opening};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use crate::gatekeeper;
use crate::store::websh::Authority;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use gatehouse_shared::api::Page;
use gatehouse_shared::tunnel::{self as wire, close, CreateTunnel, TunnelCreated, TunnelView};
use gatehouse_shared::{ErrorEnvelope, UserRef, WorkSessionId};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tunnels", post(create_tunnel).get(list_tunnels))
        .route("/api/tunnels/{id}", get(get_tunnel).delete(end_tunnel))
        .route("/ws/tunnels/{id}", get(socket::tunnel_socket))
}

/// The host a request names, as the rules compare it (default `127.0.0.1`).
fn target_host(requested: Option<&str>) -> ApiResult<String> {
    wire::normalize_host(requested.unwrap_or("127.0.0.1"))
        .map_err(|message| ApiError::validation("remote_host", message))
}

/// Open a tunnel to `remote_host:remote_port` through `server` (scope `tunnel`; the port among
/// the session's `tunnel_ports` when it declared any; the target within the server entry's
/// `tunnel_allow`, default `127.0.0.1:*`; the agent's own `--tunnel-allow` decides each
/// connection). Carry it with `WS /ws/tunnels/{id}`.
#[utoipa::path(post, path = "/api/tunnels", tag = "tunnels", request_body = CreateTunnel,
    responses((status = 201, body = TunnelCreated), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn create_tunnel(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateTunnel>,
) -> ApiResult<(StatusCode, Json<TunnelCreated>)> {
    if req.remote_port == 0 {
        return Err(ApiError::validation(
            "remote_port",
            "a port from 1 to 65535",
        ));
    }
    let host = target_host(req.remote_host.as_deref())?;
    let (server, link) = gatekeeper::target(&state, &req.server).await?;
    let op = tunnels::operation(&req.server, &host, req.remote_port);
    let pass = gatekeeper::pass(&state, &auth, &headers, &op, tunnels::run_as()).await?;
    let authority = match (pass.session(), auth.token) {
        (Some(session), _) => Authority::WorkSession(session.id),
        (None, Some(token)) => Authority::Token(token),
        (None, None) => return Err(ApiError::forbidden("tunnels need a work session")),
    };
    // The gate passed, so the server exists (a missing one is refused by it).
    let server = server.ok_or_else(|| ApiError::not_found("server"))?;
    if let Some(reason) = tunnels::refusal(pass.session(), &server, &host, req.remote_port)? {
        let asker = gatekeeper::asker(&auth);
        let denial = tunnels::deny(
            &state,
            asker,
            pass.session(),
            &server.name,
            req.remote_port,
            reason,
        )
        .await;
        return Err(denial.into());
    }
    let Some(link) = link else {
        return Err(ApiError::conflict(format!(
            "server {} is not connected; its agent is offline",
            req.server
        )));
    };
    if !link.supports(wire::CAPABILITY) {
        return Err(ApiError::conflict(format!(
            "the agent of {} is too old for tunnels; upgrade it",
            req.server
        )));
    }
    let live = tunnels::open(
        &state,
        Opening {
            owner: UserRef {
                id: auth.id,
                username: auth.username.clone(),
            },
            authority,
            server: &server,
            server_id: link.server_id,
            host: &host,
            port: req.remote_port,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(TunnelCreated {
            id: live.id,
            ws_path: format!("/ws/tunnels/{}", live.id),
            remote_host: host,
            remote_port: req.remote_port,
        }),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only the tunnels of this work session.
    work_session: Option<WorkSessionId>,
}

/// Whether the caller sees `t`: its owner (with the same kind of credential), or staff.
fn visible(auth: &AuthUser, owner: &UserRef) -> bool {
    auth.role.is_staff_or_above() || owner.id == auth.id
}

/// Live tunnels with their connections and bytes: the caller's own; staff see everyone's.
#[utoipa::path(get, path = "/api/tunnels", tag = "tunnels", params(ListQuery),
    responses((status = 200, body = Page<TunnelView>)))]
pub async fn list_tunnels(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<TunnelView>>> {
    let mut items: Vec<TunnelView> = state
        .hub
        .tunnels
        .all()
        .iter()
        .filter(|t| !t.ended() && visible(&auth, &t.owner))
        .filter(|t| q.work_session.is_none_or(|s| t.work_session == Some(s)))
        .map(|t| t.view())
        .collect();
    items.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    Ok(Json(Page {
        items,
        total,
        next_cursor: None,
    }))
}

/// A live tunnel the caller may see, or 404 (never 403: no existence oracle).
async fn visible_tunnel(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<std::sync::Arc<crate::core::gateway::tunnel::LiveTunnel>> {
    match tunnels::live(state, id).await? {
        Some(t) if visible(auth, &t.owner) && !t.ended() => Ok(t),
        _ => Err(ApiError::not_found("tunnel")),
    }
}

/// One live tunnel.
#[utoipa::path(get, path = "/api/tunnels/{id}", tag = "tunnels",
    params(("id" = String, Path, description = "tunnel id")),
    responses((status = 200, body = TunnelView), (status = 404, body = ErrorEnvelope)))]
pub async fn get_tunnel(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<TunnelView>> {
    Ok(Json(visible_tunnel(&state, &auth, id).await?.view()))
}

/// End a tunnel (its owner, or staff): every connection in it ends and its carrier is closed.
#[utoipa::path(delete, path = "/api/tunnels/{id}", tag = "tunnels",
    params(("id" = String, Path, description = "tunnel id")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn end_tunnel(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    let t = visible_tunnel(&state, &auth, id).await?;
    let reason = format!("ended by {}", auth.username);
    tunnels::end(&state, &t, close::ENDED, &reason, &auth.username).await;
    Ok(StatusCode::NO_CONTENT)
}
