//! Terminals: open one, share it (and see or revoke its links), join a shared link, see or
//! remove who is in it, list the live ones, end one.

use super::Client;
use crate::error::ClientError;
use crate::transport::Method;
use gatehouse_shared::api::Page;
use gatehouse_shared::share::{
    CreateShare, JoinShare, Joined, LiveTerminal, Participant, ShareCreated, ShareInfo,
};
use gatehouse_shared::websh::{OpenWebsh, OpenedWebsh};
use gatehouse_shared::{ParticipantId, ShareId};
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

    /// `GET /api/websh/{id}/shares`: the links to a terminal (owner or staff), never with
    /// their secrets.
    pub async fn shares(&self, id: Uuid) -> Result<Page<ShareInfo>, ClientError> {
        self.get(&format!("/api/websh/{id}/shares"), Vec::new())
            .await
    }

    /// `DELETE /api/websh/{id}/shares/{share}`: revokes a link; its guests are disconnected.
    pub async fn revoke_share(&self, id: Uuid, share: ShareId) -> Result<(), ClientError> {
        self.delete(&format!("/api/websh/{id}/shares/{share}"))
            .await
    }

    /// `GET /api/websh/{id}/participants`: who is in the terminal now.
    pub async fn participants(&self, id: Uuid) -> Result<Page<Participant>, ClientError> {
        self.get(&format!("/api/websh/{id}/participants"), Vec::new())
            .await
    }

    /// `DELETE /api/websh/{id}/participants/{participant}`: disconnects one (never the owner).
    pub async fn remove_participant(
        &self,
        id: Uuid,
        participant: ParticipantId,
    ) -> Result<(), ClientError> {
        self.delete(&format!("/api/websh/{id}/participants/{participant}"))
            .await
    }

    /// `POST /api/share/join`: a guest's ticket for a shared link (no sign-in needed). Sent
    /// without credentials (in a browser, without its cookie): whoever happens to be signed in
    /// joins as the same guest as anyone else with the link.
    pub async fn join_share(&self, body: &JoinShare) -> Result<Joined, ClientError> {
        let mut req = self.with_body(Method::Post, "/api/share/join", body)?;
        req.without_credentials();
        self.call(req).await
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
