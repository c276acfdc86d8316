//! TCP tunnels: open one, list the live ones, end one, and a server entry's `tunnel_allow`.

use super::{query, Client};
use crate::error::ClientError;
use gatehouse_shared::api::Page;
use gatehouse_shared::server::{Server, UpdateServer};
use gatehouse_shared::tunnel::{CreateTunnel, TunnelCreated, TunnelView};
use gatehouse_shared::{ServerId, WorkSessionId};
use uuid::Uuid;

impl Client {
    /// `POST /api/tunnels`: a tunnel to `remote_host:remote_port` through `server`; carry it on
    /// `ws_path`.
    pub async fn create_tunnel(&self, body: &CreateTunnel) -> Result<TunnelCreated, ClientError> {
        self.post("/api/tunnels", body).await
    }

    /// `GET /api/tunnels`: live tunnels (one's own; staff see all), of one session if given.
    pub async fn tunnels(
        &self,
        work_session: Option<WorkSessionId>,
    ) -> Result<Page<TunnelView>, ClientError> {
        let q = query(&[("work_session", work_session.map(|s| s.to_string()))]);
        self.get("/api/tunnels", q).await
    }

    /// `DELETE /api/tunnels/{id}`: ends the tunnel and every connection in it.
    pub async fn end_tunnel(&self, id: Uuid) -> Result<(), ClientError> {
        self.delete(&format!("/api/tunnels/{id}")).await
    }

    /// `PATCH /api/servers/{id}` (staff): only the fields given change.
    pub async fn update_server(
        &self,
        id: ServerId,
        body: &UpdateServer,
    ) -> Result<Server, ClientError> {
        self.patch(&format!("/api/servers/{id}"), body).await
    }
}
