//! Live tunnels and a server entry's `tunnel_allow`, through the typed client the CLI uses too.

use super::{client, ApiResult};
use gatehouse_shared::api::Page;
use gatehouse_shared::server::{Server, UpdateServer};
use gatehouse_shared::tunnel::TunnelView;
use gatehouse_shared::{ServerId, WorkSessionId};

/// Live tunnels: the caller's own (staff: everyone's), of one session when given.
pub async fn tunnels(work_session: Option<WorkSessionId>) -> ApiResult<Page<TunnelView>> {
    Ok(client()?.tunnels(work_session).await?)
}

/// Ends a tunnel and every connection in it.
pub async fn end_tunnel(id: uuid::Uuid) -> ApiResult<()> {
    Ok(client()?.end_tunnel(id).await?)
}

/// Sets what tunnels through a server may reach (staff).
pub async fn set_tunnel_allow(id: ServerId, rules: Vec<String>) -> ApiResult<Server> {
    let body = UpdateServer {
        tunnel_allow: Some(rules),
        ..UpdateServer::default()
    };
    Ok(client()?.update_server(id, &body).await?)
}
