//! Who may attach to a terminal stream, and as whom: its owner while the gate still says yes,
//! staff watching read-only, or a guest holding a fresh ticket from a join whose link, terminal
//! and owner's work session are all still good.

use crate::auth::secrets::sha256_hex;
use crate::core::audit;
use crate::core::gate::{self as core_gate, Asker, DenialNote};
use crate::core::gateway::service;
use crate::core::gateway::terminal::Terminal;
use crate::core::gateway::viewers::ViewerIdentity;
use crate::core::runas;
use crate::core::state::AppState;
use crate::error::ApiError;
use crate::extract::AuthUser;
use crate::store::{shares, websh, work_sessions};
use crate::time::now;
use chrono::{DateTime, Utc};
use gatehouse_shared::agent_link::ChannelId;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::gate::{AuthMethod, Principal};
use gatehouse_shared::share::ParticipantRole;
use gatehouse_shared::websh::{close, EndReason, NoticeLevel};
use gatehouse_shared::{ParticipantId, Scope, TokenId, UserId};
use std::sync::Arc;
use uuid::Uuid;

/// A refusal before the stream starts: a close code and a reason the client can show.
pub type Refusal = (u16, String);

/// An admitted viewer.
pub struct Admitted {
    pub term: Arc<Terminal>,
    pub who: ViewerIdentity,
    /// A guest's link stops working then.
    pub until: Option<DateTime<Utc>>,
}

fn not_found() -> Refusal {
    (close::NOT_FOUND, "no such live terminal".to_owned())
}

/// How a terminal the hub still holds, but which is over, ended: it is being put away right
/// now, and its row in the store may not say so yet.
fn ended(term: &Terminal) -> Refusal {
    let snap = term.snapshot();
    match snap.ended {
        Some(EndReason::Terminated) => (
            close::TERMINATED,
            service::end_reason_text(EndReason::Terminated).to_owned(),
        ),
        Some(reason) => (
            close::WORK_SESSION_ENDED,
            service::end_reason_text(reason).to_owned(),
        ),
        None => (close::SHELL_EXITED, "shell exited".to_owned()),
    }
}

/// Why a terminal the hub does not hold cannot be attached to: gone for good (4004), or, when
/// the store still has it open, waiting for its agent to come back after a gateway restart
/// (4015, retryable), so a client never has to guess from timing which one it is. `owner`,
/// when given, must be its owner (anyone else learns nothing).
async fn missing(state: &AppState, id: Uuid, owner: Option<UserId>) -> Refusal {
    let open = websh::get(&state.db, state.workspace, id)
        .await
        .ok()
        .flatten()
        .filter(|row| row.ended_at.is_none())
        .filter(|row| owner.is_none_or(|o| row.user_id == o.to_string()));
    match open {
        Some(_) => (
            close::AGENT_PENDING,
            "the gateway restarted and this terminal's server has not reconnected yet; retrying \
             is safe"
                .to_owned(),
        ),
        None => not_found(),
    }
}

/// The live terminal `id`, or why not (see [`missing`]).
async fn attachable(
    state: &AppState,
    id: Uuid,
    owner: Option<UserId>,
) -> Result<Arc<Terminal>, Refusal> {
    match state.hub.terminal(ChannelId(id)) {
        Some(term) if term.is_live() => Ok(term),
        // Over but not yet put away: say how it ended (the store's row may still look open,
        // which would read as "its agent is not back yet"). Anyone but its owner learns nothing.
        Some(term) if owner.is_none_or(|o| term.owner == o) => Err(ended(&term)),
        Some(_) => Err(not_found()),
        None => Err(missing(state, id, owner).await),
    }
}

/// The gate, as on every attach: the terminal's work session (or, for a terminal an API token
/// opened, that token's ACLs) must still let `principal` use websh (and sudo when it runs as
/// root) on its server. Denials are audited as `actor`; the pass is not needed past the check
/// (the channel is open already). A token's terminal has no session, so sharing it or joining
/// it any other way than with its own token is refused here.
pub async fn attach_gate(
    state: &AppState,
    term: &Terminal,
    principal: Principal,
    token: Option<TokenId>,
    actor: &str,
    attach_as: &'static str,
) -> Result<(), Refusal> {
    let session = match term.work_session {
        Some(id) => work_sessions::get(&state.db, state.workspace, id)
            .await
            .map_err(|_| {
                (
                    close::GATE_DENIED,
                    "cannot read the work session".to_owned(),
                )
            })?
            .map(Arc::new),
        None => None,
    };
    // The terminal already runs as its account; whether that still needs `sudo` is decided
    // against the owner's account and grants as they are now.
    let decided = match &term.run_as {
        Some(account) => {
            runas::decide(state, term.owner, &term.server_name, Some(account), true).await
        }
        None => runas::decide(state, term.owner, &term.server_name, None, false).await,
    }
    .map_err(|_| {
        (
            close::GATE_DENIED,
            "cannot read the terminal owner's account".to_owned(),
        )
    })?;
    let op = decided.operation(Scope::Websh, &term.server_name);
    let asker = Asker {
        principal,
        actor,
        token,
    };
    let note = DenialNote {
        attach: Some((term.id.0, attach_as)),
        ..DenialNote::default()
    };
    core_gate::check(state, asker, session, &op, decided, note)
        .await
        .map(drop)
        .map_err(|denial| (close::GATE_DENIED, denial.message))
}

/// Guests ride on the owner's session: the gate is asked as the owner would be.
pub fn owner_principal(term: &Terminal) -> Principal {
    Principal {
        user_id: term.owner,
        auth_method: AuthMethod::Password,
    }
}

fn user_participant(id: UserId) -> ParticipantId {
    ParticipantId(id.0)
}

/// The owner, re-checked by the gate.
pub async fn owner(
    state: &AppState,
    auth: Result<AuthUser, ApiError>,
    id: Uuid,
) -> Result<Admitted, Refusal> {
    let auth = auth.map_err(|e| (close::UNAUTHENTICATED, e.0.message))?;
    let term = attachable(state, id, Some(auth.id)).await?;
    // The owner, with the same kind of credential that opened it: a token's terminal only with
    // that token, a work session's only with a sign-in.
    if term.owner != auth.id || term.token != auth.token {
        return Err(not_found());
    }
    attach_gate(
        state,
        &term,
        auth.principal(),
        auth.token,
        &auth.username,
        "owner",
    )
    .await?;
    let who = ViewerIdentity {
        participant: user_participant(auth.id),
        name: auth.username.clone(),
        role: ParticipantRole::Owner,
        read_only: false,
        share: None,
    };
    Ok(Admitted {
        term,
        who,
        until: None,
    })
}

/// Staff and superusers watch any live terminal read-only; the owner is told.
pub async fn watcher(
    state: &AppState,
    auth: Result<AuthUser, ApiError>,
    id: Uuid,
) -> Result<Admitted, Refusal> {
    let auth = auth.map_err(|e| (close::UNAUTHENTICATED, e.0.message))?;
    if !auth.role.is_staff_or_above() {
        return Err(not_found());
    }
    let term = attachable(state, id, None).await?;
    let event = audit::event(AuditAction::WebshWatched, audit::SUCCESS)
        .actor(&auth.username)
        .target(id.to_string())
        .in_session(term.work_session)
        .server(&term.server_name)
        .details(serde_json::json!({"websh": id, "owner": term.owner_name}));
    audit::record_event(state, event)
        .await
        .map_err(|_| (close::GATE_DENIED, "cannot audit the watch".to_owned()))?;
    term.announce(
        NoticeLevel::Warn,
        format!("{} is watching this terminal (read-only)", auth.username),
    );
    let who = ViewerIdentity {
        participant: user_participant(auth.id),
        name: auth.username.clone(),
        role: ParticipantRole::Watcher,
        read_only: true,
        share: None,
    };
    Ok(Admitted {
        term,
        who,
        until: None,
    })
}

/// A guest with the ticket its join returned (used up here).
pub async fn guest(state: &AppState, id: Uuid, ticket: &str) -> Result<Admitted, Refusal> {
    let internal = |_| (close::UNAUTHENTICATED, "cannot check the ticket".to_owned());
    let at = now();
    let participant = shares::take_ticket(&state.db, state.workspace, &sha256_hex(ticket), at)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            (
                close::UNAUTHENTICATED,
                "the ticket is unknown, used or expired; join again".to_owned(),
            )
        })?;
    let row = shares::participant(&state.db, state.workspace, participant)
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    if row.removed_at.is_some() {
        return Err((
            close::REMOVED,
            "you were removed from this terminal".to_owned(),
        ));
    }
    let share_id = row.share_id.parse().map_err(|_| not_found())?;
    let share = shares::get(&state.db, state.workspace, share_id)
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    if share.websh().ok() != Some(id) {
        return Err(not_found());
    }
    if share.revoked_at.is_some() || share.expired(at) {
        return Err((
            close::SHARE_ENDED,
            "this link was revoked or has expired".to_owned(),
        ));
    }
    let term = attachable(state, id, None).await?;
    attach_gate(
        state,
        &term,
        owner_principal(&term),
        None,
        &guest_actor(&row.name),
        "guest",
    )
    .await?;
    let who = ViewerIdentity {
        participant,
        name: row.name.clone(),
        role: ParticipantRole::Guest,
        read_only: share.read_only,
        share: Some(share_id),
    };
    Ok(Admitted {
        term,
        who,
        until: Some(share.expires()),
    })
}

/// How a guest appears as the actor of audit events (never mistakable for a username).
pub fn guest_actor(name: &str) -> String {
    format!("guest:{name}")
}
