//! `POST /api/gate/check`: the decision every gated operation makes, as a pre-flight.

use crate::core::gate::{self as core_gate, DenialNote};
use crate::core::state::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, AuthUser};
use crate::gatekeeper::{asker, person, run_as, select, target};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use gatehouse_shared::api::{GateCheckAllowed, GateCheckRequest};

use gatehouse_shared::ErrorEnvelope;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/gate/check", post(check))
}

/// Pre-flight: would this scope on this server be allowed right now?
#[utoipa::path(post, path = "/api/gate/check", tag = "gate", request_body = GateCheckRequest,
    responses((status = 200, body = GateCheckAllowed), (status = 403, body = ErrorEnvelope)))]
pub async fn check(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    ApiJson(req): ApiJson<GateCheckRequest>,
) -> ApiResult<Json<GateCheckAllowed>> {
    let (_, link) = target(&state, &req.server).await?;
    let decided = run_as(
        &person(&state, &auth).await?,
        &req.server,
        req.user.as_deref(),
        link.as_ref(),
    );
    let op = decided.operation(req.scope, &req.server);
    let session = select(&state, &auth, &headers).await?;
    let note = DenialNote {
        preflight: true,
        ..DenialNote::default()
    };
    let pass = core_gate::check(&state, asker(&auth), session, &op, decided, note).await?;
    Ok(Json(GateCheckAllowed {
        ok: true,
        work_session: pass.session().cloned(),
    }))
}
