//! `POST /api/share/join`: a guest without an account trades a link's secret and password for a
//! one-connection ticket. Guessing is slowed per link (doubling backoff, locked after ten wrong
//! passwords) and per address; every attempt, allowed or not, is an audit event.

use super::admit::{attach_gate, guest_actor, owner_principal};
use crate::auth::{password, secrets};
use crate::core::audit::{self, DENIED, FAILURE, SUCCESS};
use crate::core::gateway::terminal::Terminal;
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, PeerAddr};
use crate::store::audit::NewEvent;
use crate::store::shares::{self, ShareRow};
use crate::store::{throttle, WriteTx};
use crate::time::{from_micros, now};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Duration;
use gatehouse_shared::agent_link::ChannelId;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::share::{
    guest_name, join_backoff_ms, JoinShare, Joined, MAX_FAILED_JOINS, TICKET_TTL_SECS,
};
use gatehouse_shared::user::MAX_PASSWORD_LEN;
use gatehouse_shared::ErrorEnvelope;
use std::net::IpAddr;
use std::sync::Arc;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/share/join", post(join))
}

/// Longest link secret looked up (ours are 43 characters).
const MAX_SECRET_LEN: usize = 128;

/// One join attempt, for its audit row.
struct Attempt<'a> {
    state: &'a AppState,
    peer: IpAddr,
    share: Option<&'a ShareRow>,
    term: Option<&'a Arc<Terminal>>,
}

impl Attempt<'_> {
    /// The `share.join` event of this attempt.
    fn event(&self, outcome: &'static str, actor: &str, details: serde_json::Value) -> NewEvent {
        let mut event = audit::event(AuditAction::ShareJoin, outcome)
            .actor(actor)
            .details(serde_json::json!({
                "peer": self.peer.to_string(),
                "share": self.share.map(|s| s.id.clone()),
                "websh": self.share.map(|s| s.websh_id.clone()),
                "outcome": details,
            }));
        if let Some(share) = self.share {
            event = event.target(share.id.clone());
        }
        if let Some(term) = self.term {
            event = event
                .in_session(term.work_session)
                .server(&term.server_name);
        }
        event
    }

    /// Records a join attempt that changed nothing.
    async fn audit(&self, outcome: &'static str, actor: &str, details: serde_json::Value) {
        let event = self.event(outcome, actor, details);
        if let Err(e) = audit::record_event(self.state, event).await {
            tracing::error!(error = %e, "cannot audit a join attempt");
        }
    }

    /// Audits a refusal and returns it.
    async fn refuse(&self, reason: &str, error: ApiError) -> ApiError {
        let outcome = if error.code() == gatehouse_shared::ErrorCode::Unauthenticated {
            FAILURE
        } else {
            DENIED
        };
        self.audit(outcome, "guest", serde_json::json!({"reason": reason}))
            .await;
        error
    }
}

fn peer_key(peer: IpAddr) -> String {
    format!("share-peer:{peer}")
}

/// Join a shared terminal by its link's secret and password; answers a ticket for one
/// `WS {ws_path}?ticket=` connection within a minute.
#[utoipa::path(post, path = "/api/share/join", tag = "websh", request_body = JoinShare,
    responses((status = 200, body = Joined), (status = 401, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
              (status = 429, body = ErrorEnvelope)))]
pub async fn join(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    ApiJson(req): ApiJson<JoinShare>,
) -> ApiResult<Json<Joined>> {
    let at = now();
    let mut attempt = Attempt {
        state: &state,
        peer,
        share: None,
        term: None,
    };
    // Per address: wrong secrets and passwords from one place, across every link.
    let window = Duration::seconds(state.config.throttle.window_secs);
    let (failures, wait) =
        throttle::recent_failures(&state.db, state.workspace, &peer_key(peer), at, window).await?;
    if failures >= state.config.throttle.per_peer {
        let error = ApiError::rate_limited_because(
            "too many failed join attempts from this address; try again later",
            wait,
        );
        return Err(attempt.refuse("peer_throttled", error).await);
    }

    let share = if req.secret.len() <= MAX_SECRET_LEN {
        shares::by_secret_hash(
            &state.db,
            state.workspace,
            &secrets::sha256_hex(&req.secret),
        )
        .await?
    } else {
        None
    };
    let Some(share) = share else {
        throttle::record_failure(&state.db, state.workspace, &peer_key(peer), at).await?;
        let error = ApiError::not_found("link");
        return Err(attempt.refuse("unknown_link", error).await);
    };
    attempt.share = Some(&share);
    let websh = share.websh()?;
    let term = state.hub.terminal(ChannelId(websh)).filter(|t| t.is_live());
    attempt.term = term.as_ref();
    if share.revoked_at.is_some() {
        let error = ApiError::new(
            gatehouse_shared::ErrorCode::NotFound,
            "this link was revoked by its owner",
        );
        return Err(attempt.refuse("revoked", error).await);
    }
    if share.expired(at) {
        let error = ApiError::new(
            gatehouse_shared::ErrorCode::NotFound,
            "this link has expired",
        );
        return Err(attempt.refuse("expired", error).await);
    }
    let Some(term) = term.clone() else {
        let error = ApiError::new(
            gatehouse_shared::ErrorCode::NotFound,
            "the shared terminal has ended",
        );
        return Err(attempt.refuse("terminal_ended", error).await);
    };
    let Some(backoff_ms) = join_backoff_ms(share.failures(), state.config.share_backoff_base_ms)
    else {
        let error = ApiError::forbidden(format!(
            "this link is locked after {MAX_FAILED_JOINS} wrong passwords; ask its owner for a new one"
        ));
        return Err(attempt.refuse("locked", error).await);
    };
    if let Some(last) = share.last_failed_at.map(from_micros) {
        let ready = last + Duration::milliseconds(backoff_ms as i64);
        if ready > at {
            let secs = (ready - at).num_milliseconds().max(0) as u64;
            let error = ApiError::rate_limited_because(
                "wrong passwords were tried on this link; wait before trying again",
                secs.div_ceil(1000),
            );
            return Err(attempt.refuse("backoff", error).await);
        }
    }
    // Count the attempt as a failure before the (slow) check, conditional on the count read.
    if !shares::reserve_attempt(&state.db, state.workspace, &share, at).await? {
        let error =
            ApiError::rate_limited_because("another attempt on this link is in progress", 1);
        return Err(attempt.refuse("concurrent_attempt", error).await);
    }
    // argon2's verification compares in constant time.
    let password_ok = req.password.chars().count() <= MAX_PASSWORD_LEN
        && password::verify(req.password, Some(share.password_hash.clone())).await;
    if !password_ok {
        throttle::record_failure(&state.db, state.workspace, &peer_key(peer), at).await?;
        let failures = share.failures() + 1;
        let reason = if failures >= MAX_FAILED_JOINS {
            "wrong_password_locked"
        } else {
            "wrong_password"
        };
        attempt
            .audit(
                FAILURE,
                "guest",
                serde_json::json!({"reason": reason, "failed_attempts": failures}),
            )
            .await;
        return Err(ApiError::unauthenticated("wrong password for this link"));
    }
    shares::release_attempt(&state.db, state.workspace, &share).await?;

    // The owner's session must still allow the terminal.
    if let Err((_, message)) = attach_gate(
        &state,
        &term,
        owner_principal(&term),
        None,
        "guest",
        "guest",
    )
    .await
    {
        let error = ApiError::forbidden(message);
        return Err(attempt.refuse("gate_denied", error).await);
    }
    // The participant (when new), its ticket and the join's event land together.
    let mut tx = WriteTx::begin(&state.db, state.workspace, at).await?;
    let participant = match req.participant {
        Some(id) => {
            let row = shares::participant(&state.db, state.workspace, id)
                .await?
                .filter(|p| p.share_id == share.id)
                .ok_or_else(|| ApiError::not_found("participant"))?;
            if row.removed_at.is_some() {
                drop(tx);
                let error = ApiError::forbidden("you were removed from this terminal");
                return Err(attempt.refuse("removed", error).await);
            }
            row
        }
        None => {
            let name = guest_name(req.name.as_deref());
            shares::insert_participant(&mut tx, share.share_id()?, &name).await?
        }
    };
    let participant_id = participant.participant_id()?;
    let ticket = secrets::random_secret();
    shares::insert_ticket(
        &mut tx,
        &secrets::sha256_hex(&ticket),
        participant_id,
        at + Duration::seconds(TICKET_TTL_SECS),
    )
    .await?;
    tx.commit(attempt.event(
        SUCCESS,
        &guest_actor(&participant.name),
        serde_json::json!({
            "participant": participant_id, "name": participant.name,
            "read_only": share.read_only, "rejoin": req.participant.is_some(),
        }),
    ))
    .await?;
    Ok(Json(Joined {
        ws_path: format!("/ws/websh/{websh}"),
        ticket,
        read_only: share.read_only,
        participant: participant_id,
        name: participant.name,
        websh,
        server: term.server_name.clone(),
        owner: term.owner_name.clone(),
        expires_at: share.expires(),
    }))
}
