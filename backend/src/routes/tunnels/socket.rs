//! `WS /ws/tunnels/{id}` (docs/protocol.md, "Tunnel stream"): `Origin` checked before the
//! upgrade, then the tunnel's owner admitted with the credential that opened it and the gate
//! asked again (scope, session, token rules, `tunnel_ports`, `tunnel_allow`), on every carrier
//! connection, so a reconnect after a revoke or a rule change is refused. Refusals come before
//! the upgrade as the usual envelope (401, 403, 404), so a client maps them to exit codes.

use super::carrier::{self, Carrier};
use crate::core::gate::GatePass;
use crate::core::gateway::tunnel::LiveTunnel;
use crate::core::state::AppState;
use crate::core::tunnels;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, AuthUser, PeerAddr, WsUpgrade};
use crate::gatekeeper;
use crate::store::{servers, work_sessions};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use uuid::Uuid;

/// The stream that carries a tunnel's TCP connections (a WebSocket; `docs/protocol.md`,
/// "Tunnel stream"): the client opens numbered connections, each with its own credit and
/// half-close; one failing never ends the others. Only the tunnel's owner, with the credential
/// that opened it; the gate is asked again on every connection of the stream. A newer stream
/// for the same tunnel replaces the older (4009); the tunnel's end closes it with 4010 (its
/// session or token ended) or 4011 (ended).
#[utoipa::path(get, path = "/ws/tunnels/{id}", tag = "tunnels",
    params(("id" = String, Path, description = "tunnel id")),
    responses((status = 101, description = "switching to the tunnel stream (WebSocket)"),
              (status = 400, body = gatehouse_shared::ErrorEnvelope,
               description = "not a WebSocket request"),
              (status = 401, body = gatehouse_shared::ErrorEnvelope),
              (status = 403, body = gatehouse_shared::ErrorEnvelope,
               description = "a foreign Origin, or the gate refused"),
              (status = 404, body = gatehouse_shared::ErrorEnvelope)))]
pub async fn tunnel_socket(
    State(state): State<AppState>,
    auth: Result<AuthUser, ApiError>,
    peer: PeerAddr,
    ApiPath(id): ApiPath<Uuid>,
    upgrade: WsUpgrade,
) -> Response {
    let upgrade = match upgrade.client_stream() {
        Ok(upgrade) => upgrade,
        Err(refused) => return refused.into_response(),
    };
    let auth = match auth {
        Ok(auth) => auth,
        Err(refused) => return refused.into_response(),
    };
    match admit(&state, &auth, id).await {
        Ok((tunnel, pass)) => upgrade.on_upgrade(move |socket| {
            let carrier = Carrier::new(state, tunnel, pass, auth.username, peer.0);
            carrier::serve(carrier, socket)
        }),
        Err(refused) => refused.into_response(),
    }
}

/// The tunnel's owner (with the credential that opened it), while the gate still allows it.
async fn admit(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<(Arc<LiveTunnel>, GatePass)> {
    let tunnel = match tunnels::live(state, id).await? {
        Some(t) if t.owner.id == auth.id && t.token == auth.token && !t.ended() => t,
        _ => return Err(ApiError::not_found("tunnel")),
    };
    let session = match tunnel.work_session {
        Some(s) => work_sessions::get(&state.db, state.workspace, s)
            .await?
            .map(Arc::new),
        None => None,
    };
    let op = tunnels::operation(&tunnel.server_name, &tunnel.remote_host, tunnel.remote_port);
    let pass = gatekeeper::pass_in(state, auth, session, &op, tunnels::run_as()).await?;
    let server = servers::by_id(&state.db, state.workspace, tunnel.server_id)
        .await?
        .ok_or_else(|| ApiError::not_found("tunnel"))?;
    let port = tunnel.remote_port;
    if let Some(reason) = tunnels::refusal(pass.session(), &server, &tunnel.remote_host, port)? {
        let asker = gatekeeper::asker(auth);
        let denial = tunnels::deny(state, asker, pass.session(), &server.name, port, reason).await;
        return Err(denial.into());
    }
    Ok((tunnel, pass))
}
