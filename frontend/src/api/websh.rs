//! Terminals: opening one, ending one, its share links and participants, a guest's join, the
//! live list, through the typed client the CLI uses too.

use super::{client, client_in, ApiResult};
use gatehouse_shared::api::Page;
use gatehouse_shared::share::{
    CreateShare, JoinShare, Joined, LiveTerminal, Participant, ShareCreated, ShareInfo,
};
use gatehouse_shared::websh::{OpenWebsh, OpenedWebsh};
use gatehouse_shared::{ParticipantId, ShareId, WorkSessionId};

/// Opens a terminal under `session` (`X-Work-Session`), else the sign-in's active one.
pub async fn open_websh(
    session: Option<WorkSessionId>,
    body: &OpenWebsh,
) -> ApiResult<OpenedWebsh> {
    Ok(client_in(session)?.open_websh(body).await?)
}

/// Ends a live terminal (its shell is killed; viewers see `terminated`).
pub async fn terminate_websh(id: uuid::Uuid) -> ApiResult<()> {
    Ok(client()?.close_websh(id).await?)
}

/// A new link to the caller's terminal `id`; its password is in this answer only.
pub async fn create_share(id: uuid::Uuid, body: &CreateShare) -> ApiResult<ShareCreated> {
    Ok(client()?.share_websh(id, body).await?)
}

/// The links to terminal `id` (owner or staff), never with their secrets.
pub async fn shares(id: uuid::Uuid) -> ApiResult<Page<ShareInfo>> {
    Ok(client()?.shares(id).await?)
}

/// Revokes a link; guests who came through it are disconnected.
pub async fn revoke_share(id: uuid::Uuid, share: ShareId) -> ApiResult<()> {
    Ok(client()?.revoke_share(id, share).await?)
}

/// Who is in terminal `id` now (the stream pushes the same list on every change).
pub async fn participants(id: uuid::Uuid) -> ApiResult<Page<Participant>> {
    Ok(client()?.participants(id).await?)
}

/// Disconnects a participant (owner or staff; never the owner).
pub async fn remove_participant(id: uuid::Uuid, participant: ParticipantId) -> ApiResult<()> {
    Ok(client()?.remove_participant(id, participant).await?)
}

/// A guest joins by link: no account, so the client sends it without cookie or CSRF header,
/// and a browser that happens to be signed in joins as the same guest as any other.
pub async fn join_share(body: &JoinShare) -> ApiResult<Joined> {
    Ok(client()?.join_share(body).await?)
}

/// Live terminals: every one for staff and superusers, a member's own otherwise.
pub async fn live_terminals() -> ApiResult<Page<LiveTerminal>> {
    Ok(client()?.live_terminals().await?)
}
