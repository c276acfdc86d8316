//! `POST /api/agents/register`: an agent exchanges a registration token for its credential.

use crate::auth::secrets;
use crate::core::audit::{self, FAILURE, SUCCESS};
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, PeerAddr};
use crate::store::agents::{self, RegisterOutcome};
use crate::store::{throttle, WriteTx};
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Duration;
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::server::{is_valid_server_name, AgentCredential, AgentRegistration};
use gatehouse_shared::ErrorEnvelope;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/agents/register", post(register))
}

/// Register an agent; registering into an existing, agent-less entry of the same name is allowed.
#[utoipa::path(post, path = "/api/agents/register", tag = "servers", request_body = AgentRegistration,
    responses((status = 201, body = AgentCredential), (status = 401, body = ErrorEnvelope),
              (status = 409, body = ErrorEnvelope)))]
pub async fn register(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    ApiJson(req): ApiJson<AgentRegistration>,
) -> ApiResult<(StatusCode, Json<AgentCredential>)> {
    if !is_valid_server_name(&req.name) {
        return Err(ApiError::validation(
            "name",
            "1-64 characters: letters, digits, '.', '_', '-'",
        ));
    }
    for (field, value) in [
        ("os", &req.os),
        ("platform", &req.platform),
        ("hostname", &req.hostname),
    ] {
        if value.is_empty() || value.len() > 255 {
            return Err(ApiError::validation(field, "1-255 characters"));
        }
    }
    // Unauthenticated and writing: a peer gets as many failed tries as a sign-in does. Only
    // failures count (registration is cheap), so a fleet may register in parallel.
    let key = format!("register:{peer}");
    let window = Duration::seconds(state.config.throttle.window_secs);
    let (failures, wait) =
        throttle::recent_failures(&state.db, state.workspace, &key, now(), window).await?;
    if failures >= state.config.throttle.per_peer {
        let mut err = ApiError::rate_limited(wait);
        err.0.message = "too many failed registrations from this address; try again later".into();
        return Err(err);
    }
    let secret = secrets::random_secret();
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    let outcome = agents::register(
        &mut tx,
        &req,
        &secrets::sha256_hex(req.registration_token.trim()),
        &secrets::sha256_hex(&secret),
    )
    .await?;
    let fail = |reason: &str| {
        audit::event(AuditAction::AgentRegistered, FAILURE)
            .target(&req.name)
            .server(&req.name)
            .details(serde_json::json!({"peer": peer.to_string(), "reason": reason}))
    };
    match outcome {
        RegisterOutcome::Registered {
            server_id,
            agent_id,
        } => {
            // The credential, the spent token and the event land together.
            tx.commit(
                audit::event(AuditAction::AgentRegistered, SUCCESS)
                    .target(&req.name)
                    .server(&req.name)
                    .details(serde_json::json!({
                        "agent_id": agent_id, "hostname": req.hostname, "peer": peer.to_string()
                    })),
            )
            .await?;
            Ok((
                StatusCode::CREATED,
                Json(AgentCredential {
                    server_id,
                    agent_id,
                    agent_secret: secret,
                }),
            ))
        }
        RegisterOutcome::BadToken => {
            drop(tx);
            throttle::record_failure(&state.db, state.workspace, &key, now()).await?;
            audit::record_event(&state, fail("bad_token")).await?;
            Err(ApiError::unauthenticated(
                "the registration token is unknown, expired or used up",
            ))
        }
        RegisterOutcome::AlreadyRegistered => {
            // Rolls back the token use this attempt spent.
            drop(tx);
            throttle::record_failure(&state.db, state.workspace, &key, now()).await?;
            audit::record_event(&state, fail("already_registered")).await?;
            Err(ApiError::conflict(format!(
                "server {} already has an agent; delete the entry to re-register",
                req.name
            )))
        }
    }
}
