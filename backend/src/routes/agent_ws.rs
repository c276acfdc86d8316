//! `WS /ws/agent`: where agents dial in with `Authorization: Agent <agent_id>:<secret>`.

use crate::auth::secrets;
use crate::core::gateway;
use crate::core::state::AppState;
use crate::error::ApiError;
use crate::extract::WsUpgrade;
use crate::store::agents;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gatehouse_shared::agent_link::MAX_MESSAGE_BYTES;
use gatehouse_shared::AgentId;

/// Initial read buffer of one agent link.
const LINK_READ_BUFFER: usize = 4 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/ws/agent", get(agent_socket))
}

fn credential(headers: &HeaderMap) -> Option<(AgentId, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (id, secret) = value.strip_prefix("Agent ")?.split_once(':')?;
    Some((id.trim().parse().ok()?, secret.trim().to_owned()))
}

/// Authenticates before upgrading: a bad credential or a second connection of a connected agent
/// is refused with the envelope, and the first connection stays.
pub async fn agent_socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WsUpgrade,
) -> Response {
    let Some((agent_id, secret)) = credential(&headers) else {
        return ApiError::unauthenticated(
            "agents authenticate with `Authorization: Agent <id>:<secret>`",
        )
        .into_response();
    };
    let found = agents::authenticate(
        &state.db,
        state.workspace,
        agent_id,
        &secrets::sha256_hex(&secret),
    )
    .await;
    let (server_id, server_name) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return ApiError::unauthenticated("unknown agent credential").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if state.hub.is_connected(server_id) {
        return ApiError::conflict(format!("an agent for {server_name} is already connected"))
            .into_response();
    }
    let upgrade = match upgrade.upgrade() {
        Ok(upgrade) => upgrade,
        Err(refused) => return refused.into_response(),
    };
    upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        // Thousands of mostly idle links: small buffers that grow with traffic instead of the
        // 128 KiB default each, and every message written out at once.
        .read_buffer_size(LINK_READ_BUFFER)
        .write_buffer_size(0)
        .on_upgrade(move |socket| gateway::link::serve(state, socket, server_id, server_name))
}
