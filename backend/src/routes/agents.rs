//! `POST /api/agents/register`: an agent exchanges a registration token for its credential.

use crate::audit::{self, FAILURE, SUCCESS};
use crate::auth::secrets;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, PeerAddr};
use crate::state::AppState;
use crate::store::agents::{self, RegisterOutcome};
use crate::store::throttle;
use crate::time::now;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Duration;
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
    // Unauthenticated and writing: a peer gets as many failed tries as a sign-in does.
    let limit = throttle::Limit {
        key: format!("register:{peer}"),
        max: state.config.throttle.per_peer,
    };
    let window = Duration::seconds(state.config.throttle.window_secs);
    let reserved =
        match throttle::reserve(&state.db, state.workspace, &[limit], now(), window).await? {
            Ok(ids) => ids,
            Err(wait) => return Err(ApiError::rate_limited(wait)),
        };
    let secret = secrets::random_secret();
    let outcome = agents::register(
        &state.db,
        state.workspace,
        &req,
        &secrets::sha256_hex(req.registration_token.trim()),
        &secrets::sha256_hex(&secret),
        now(),
    )
    .await?;
    let fail = |reason: &str| {
        audit::event("agent.registered", FAILURE)
            .target(&req.name)
            .server(&req.name)
            .details(serde_json::json!({"peer": peer.to_string(), "reason": reason}))
    };
    match outcome {
        RegisterOutcome::Registered {
            server_id,
            agent_id,
        } => {
            throttle::release(&state.db, state.workspace, &reserved).await?;
            audit::record(
                &state,
                audit::event("agent.registered", SUCCESS)
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
            audit::record(&state, fail("bad_token")).await?;
            Err(ApiError::unauthenticated(
                "the registration token is unknown, expired or used up",
            ))
        }
        RegisterOutcome::AlreadyRegistered => {
            audit::record(&state, fail("already_registered")).await?;
            Err(ApiError::conflict(format!(
                "server {} already has an agent; delete the entry to re-register",
                req.name
            )))
        }
    }
}
