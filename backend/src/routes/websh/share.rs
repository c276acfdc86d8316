//! The owner's side of shared links: create one for a live terminal (`POST /api/websh/{id}/share`),
//! list and revoke them, and see or remove who is in the terminal.

use super::admit::{attach_gate, owner_principal};
use crate::auth::{password, secrets};
use crate::core::audit::{self, SUCCESS};
use crate::core::gateway::terminal::Terminal;
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJsonOrDefault, ApiPath, AuthUser};
use crate::store::{shares, WriteTx};
use crate::time::now;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use gatehouse_shared::agent_link::ChannelId;
use gatehouse_shared::api::Page;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::share::{
    expiry_secs, CreateShare, Participant, ParticipantRole, ShareCreated, ShareInfo,
};
use gatehouse_shared::{ErrorEnvelope, ParticipantId, ShareId};
use std::sync::Arc;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/websh/{id}/share", post(create_share))
        .route("/api/websh/{id}/shares", get(list_shares))
        .route("/api/websh/{id}/shares/{share}", delete(revoke_share))
        .route("/api/websh/{id}/participants", get(list_participants))
        .route(
            "/api/websh/{id}/participants/{participant}",
            delete(remove_participant),
        )
}

/// Length of generated link passwords.
const PASSWORD_LEN: usize = 12;

/// A live terminal the caller may manage: its owner, or (with `staff_too`) staff and above.
/// Anyone else learns nothing of it.
pub fn managed_terminal(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    staff_too: bool,
) -> ApiResult<Arc<Terminal>> {
    state
        .hub
        .terminal(ChannelId(id))
        .filter(|t| t.owner == auth.id || (staff_too && auth.role.is_staff_or_above()))
        .filter(|t| t.is_live())
        .ok_or_else(|| ApiError::not_found("live terminal"))
}

/// Share a live terminal: read-only unless asked otherwise, for 5 minutes to 3 hours (default
/// 30). The secret travels in the URL fragment; the password is shown only in this answer.
#[utoipa::path(post, path = "/api/websh/{id}/share", tag = "websh", request_body = CreateShare,
    params(("id" = Uuid, Path, description = "The terminal")),
    responses((status = 201, body = ShareCreated), (status = 400, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn create_share(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
    ApiJsonOrDefault(req): ApiJsonOrDefault<CreateShare>,
) -> ApiResult<(StatusCode, Json<ShareCreated>)> {
    let secs = expiry_secs(req.expires_in_secs)
        .map_err(|message| ApiError::validation("expires_in_secs", message))?;
    let term = managed_terminal(&state, &auth, id, false)?;
    // Sharing lends the owner's access: only while the owner's own gate still allows it.
    attach_gate(
        &state,
        &term,
        owner_principal(&term),
        None,
        &auth.username,
        "share",
    )
    .await
    .map_err(|(_, message)| ApiError::forbidden(message))?;
    let secret = secrets::random_secret();
    let password = secrets::random_password(PASSWORD_LEN);
    let password_hash = password::hash(password.clone()).await.map_err(|_| {
        tracing::error!("cannot hash a share password");
        ApiError::internal()
    })?;
    let at = now();
    let share_id = ShareId::new();
    let expires_at = at + chrono::Duration::seconds(secs as i64);
    let mut tx = WriteTx::begin(&state.db, state.workspace, at).await?;
    shares::insert(
        &mut tx,
        state.workspace,
        &shares::NewShare {
            id: share_id,
            websh: id,
            created_by: auth.id,
            secret_hash: &secrets::sha256_hex(&secret),
            password_hash: &password_hash,
            read_only: req.read_only,
            expires_at,
        },
        at,
    )
    .await?;
    tx.commit(
        audit::event(AuditAction::ShareCreated, SUCCESS)
            .actor(&auth.username)
            .target(share_id.to_string())
            .in_session(term.work_session)
            .server(&term.server_name)
            .details(serde_json::json!({
                "websh": id, "share": share_id, "read_only": req.read_only,
                "expires_at": expires_at,
            })),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ShareCreated {
            id: share_id,
            url: format!(
                "{}/join#{secret}",
                crate::extract::own_origin(&state, &headers)
            ),
            password,
            read_only: req.read_only,
            expires_at,
        }),
    ))
}

/// The links to a terminal (never their secrets or passwords).
#[utoipa::path(get, path = "/api/websh/{id}/shares", tag = "websh",
    params(("id" = Uuid, Path, description = "The terminal")),
    responses((status = 200, body = Page<ShareInfo>), (status = 404, body = ErrorEnvelope)))]
pub async fn list_shares(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Page<ShareInfo>>> {
    managed_terminal(&state, &auth, id, true)?;
    let at = now();
    let items = shares::of_websh(&state.db, state.workspace, id)
        .await?
        .iter()
        .map(|row| row.info(at))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Page {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// Revoke a link: it stops working and its guests are disconnected (close 4012).
#[utoipa::path(delete, path = "/api/websh/{id}/shares/{share}", tag = "websh",
    params(("id" = Uuid, Path, description = "The terminal"), ("share" = Uuid, Path, description = "The link")),
    responses((status = 204), (status = 404, body = ErrorEnvelope)))]
pub async fn revoke_share(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath((id, share_id)): ApiPath<(Uuid, ShareId)>,
) -> ApiResult<StatusCode> {
    let term = managed_terminal(&state, &auth, id, true)?;
    let share = shares::get(&state.db, state.workspace, share_id)
        .await?
        .filter(|s| s.websh().ok() == Some(id))
        .ok_or_else(|| ApiError::not_found("link"))?;
    let at = now();
    let mut tx = WriteTx::begin(&state.db, state.workspace, at).await?;
    let newly = shares::revoke(&mut tx, state.workspace, share_id, at).await?;
    // Guests are cut before the commit: if it fails they were cut from a link that stays
    // valid (they may join again), never left in on a link recorded as revoked.
    let disconnected = term.kick_share(share_id);
    if newly {
        tx.commit(
            audit::event(AuditAction::ShareRevoked, SUCCESS)
                .actor(&auth.username)
                .target(share_id.to_string())
                .in_session(term.work_session)
                .server(&term.server_name)
                .details(serde_json::json!({
                    "websh": id, "share": share_id, "created_by": share.created_by_name,
                    "guests_disconnected": disconnected,
                })),
        )
        .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Who is in the terminal now (the same list the stream pushes).
#[utoipa::path(get, path = "/api/websh/{id}/participants", tag = "websh",
    params(("id" = Uuid, Path, description = "The terminal")),
    responses((status = 200, body = Page<Participant>), (status = 404, body = ErrorEnvelope)))]
pub async fn list_participants(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<Page<Participant>>> {
    let term = managed_terminal(&state, &auth, id, true)?;
    let (_, items) = term.participants();
    Ok(Json(Page {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// Remove a guest or watcher: every connection of theirs closes (4013), and a guest cannot
/// re-join as that participant. The owner cannot be removed (terminate the terminal instead).
#[utoipa::path(delete, path = "/api/websh/{id}/participants/{participant}", tag = "websh",
    params(("id" = Uuid, Path, description = "The terminal"), ("participant" = Uuid, Path, description = "The participant")),
    responses((status = 204), (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope)))]
pub async fn remove_participant(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiPath((id, participant)): ApiPath<(Uuid, ParticipantId)>,
) -> ApiResult<StatusCode> {
    let term = managed_terminal(&state, &auth, id, true)?;
    let (_, present) = term.participants();
    let target = present.iter().find(|p| p.id == participant);
    if target.is_some_and(|p| p.role == ParticipantRole::Owner) {
        return Err(ApiError::conflict(
            "the owner cannot be removed; end the terminal instead",
        ));
    }
    // A guest who is not connected right now can still be barred from coming back.
    let stored = shares::participant(&state.db, state.workspace, participant).await?;
    let of_this_terminal = match &stored {
        Some(row) => {
            let share = shares::get(
                &state.db,
                state.workspace,
                row.share_id.parse().map_err(|_| ApiError::internal())?,
            )
            .await?;
            share.is_some_and(|s| s.websh().ok() == Some(id))
        }
        None => false,
    };
    if target.is_none() && !of_this_terminal {
        return Err(ApiError::not_found("participant"));
    }
    let at = now();
    let mut tx = WriteTx::begin(&state.db, state.workspace, at).await?;
    if of_this_terminal {
        shares::remove_participant(&mut tx, state.workspace, participant, at).await?;
    }
    let disconnected = term.kick_participant(participant);
    tx.commit(
        audit::event(AuditAction::ShareParticipantRemoved, SUCCESS)
            .actor(&auth.username)
            .target(participant.to_string())
            .in_session(term.work_session)
            .server(&term.server_name)
            .details(serde_json::json!({
                "websh": id, "participant": participant,
                "name": target.map(|p| p.name.clone()).or(stored.map(|r| r.name)),
                "connections_closed": disconnected,
            })),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
