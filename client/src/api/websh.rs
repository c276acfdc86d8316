//! Terminals: open one, share it, join a shared link, list the live ones, end one.

use super::Client;
use crate::error::ClientError;
use gatehouse_shared::api::Page;
use gatehouse_shared::share::{CreateShare, JoinShare, Joined, LiveTerminal, ShareCreated};
use gatehouse_shared::websh::{OpenWebsh, OpenedWebsh};
use uuid::Uuid;

impl Client {
    /// `POST /api/websh`: a terminal on a server; connect to its `ws_path`.
    pub async fn open_websh(&self, body: &OpenWebsh) -> Result<OpenedWebsh, ClientError> {
        self.post("/api/websh", body).await
    }

    /// `POST /api/websh/{id}/share`: a link and its password, shown once.
    pub async fn share_websh(
        &self,
        id: Uuid,
        body: &CreateShare,
    ) -> Result<ShareCreated, ClientError> {
        self.post(&format!("/api/websh/{id}/share"), body).await
    }

    /// `POST /api/share/join`: a guest's ticket for a shared link (no sign-in needed).
    pub async fn join_share(&self, body: &JoinShare) -> Result<Joined, ClientError> {
        self.post("/api/share/join", body).await
    }

    /// `GET /api/websh/live`: the caller's live terminals (staff: everyone's).
    pub async fn live_terminals(&self) -> Result<Page<LiveTerminal>, ClientError> {
        self.get("/api/websh/live", Vec::new()).await
    }

    /// `DELETE /api/websh/{id}`: ends a terminal (its owner or staff).
    pub async fn close_websh(&self, id: Uuid) -> Result<(), ClientError> {
        self.delete(&format!("/api/websh/{id}")).await
    }
}
