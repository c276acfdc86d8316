//! Device sign-in for the `gate` CLI (RFC 8628): the CLI asks and polls without signing in; a
//! person signed in to the console looks at the request and approves or denies it.

use crate::core::signins::{self, NotYet};
use crate::core::state::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiJsonOrDefault, ApiQuery, AuthUser, PeerAddr};
use crate::store::throttle;
use crate::time::now;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Duration;
use gatehouse_shared::gate::AuthMethod;
use gatehouse_shared::signin::{
    normalise_user_code, DeviceAuthorization, DeviceDecision, DeviceRequest, DeviceToken,
    DeviceTokenRequest, PendingDevice,
};
use gatehouse_shared::{ErrorCode, ErrorEnvelope};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/device", post(request).get(describe))
        .route("/api/auth/device/token", post(token))
        .route("/api/auth/device/decide", post(decide))
}

/// A CLI asks to sign in: it gets a secret device code to poll with, and a user code for the
/// person to check in the console. At most as many per address per window as failed sign-ins.
#[utoipa::path(post, path = "/api/auth/device", tag = "identity", request_body = DeviceRequest,
    responses((status = 200, body = DeviceAuthorization), (status = 400, body = ErrorEnvelope),
              (status = 429, body = ErrorEnvelope)))]
pub async fn request(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    ApiJsonOrDefault(req): ApiJsonOrDefault<DeviceRequest>,
) -> ApiResult<Json<DeviceAuthorization>> {
    let name = signins::client_name(req.client_name.as_deref())?;
    let limits = state.config.throttle;
    let limit = [throttle::Limit {
        key: format!("device:{peer}"),
        max: limits.per_peer,
    }];
    let window = Duration::seconds(limits.window_secs);
    if let Err(wait) = throttle::reserve(&state.db, state.workspace, &limit, now(), window).await? {
        return Err(ApiError::rate_limited(wait));
    }
    let origin = crate::extract::own_origin(&state, &headers);
    let answer = signins::request_device(&state, &name, &peer.to_string(), &origin).await?;
    Ok(Json(answer))
}

/// The CLI's poll: the sign-in once a person approved, else 400 with `authorization_pending`,
/// `slow_down` (wait `interval` more seconds), `expired_token` or `access_denied`.
#[utoipa::path(post, path = "/api/auth/device/token", tag = "identity",
    request_body = DeviceTokenRequest,
    responses((status = 200, body = DeviceToken), (status = 400, body = ErrorEnvelope)))]
pub async fn token(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<DeviceTokenRequest>,
) -> ApiResult<Json<DeviceToken>> {
    match signins::poll_device(&state, &req.device_code).await? {
        Ok((issued, user)) => Ok(Json(DeviceToken {
            access_token: issued.secret,
            token_type: "Bearer".to_owned(),
            expires_at: issued.expires_at,
            user,
        })),
        Err(NotYet::Pending) => Err(ApiError::new(
            ErrorCode::AuthorizationPending,
            "waiting for the person to approve this sign-in in the console",
        )),
        Err(NotYet::SlowDown(interval)) => {
            let mut err = ApiError::new(
                ErrorCode::SlowDown,
                format!("polling too fast: wait {interval} seconds between polls"),
            );
            err.0.retry_after_secs = Some(interval as u64);
            Err(err)
        }
        Err(NotYet::Expired) => Err(ApiError::new(
            ErrorCode::ExpiredToken,
            "this device code expired or was already used: start the sign-in again",
        )),
        Err(NotYet::Denied) => Err(ApiError::new(
            ErrorCode::AccessDenied,
            "the sign-in was denied",
        )),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserCodeQuery {
    /// As shown by the CLI; case, spaces and dashes do not matter.
    pub user_code: String,
}

/// The pending request behind a user code, for the console to show before asking.
#[utoipa::path(get, path = "/api/auth/device", tag = "identity", params(UserCodeQuery),
    responses((status = 200, body = PendingDevice), (status = 400, body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope)))]
pub async fn describe(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(q): ApiQuery<UserCodeQuery>,
) -> ApiResult<Json<PendingDevice>> {
    require_browser(&auth)?;
    let code = user_code(&q.user_code)?;
    Ok(Json(signins::describe_device(&state, &code).await?))
}

/// Approve or deny a device sign-in; only a person signed in to the console may.
#[utoipa::path(post, path = "/api/auth/device/decide", tag = "identity",
    request_body = DeviceDecision,
    responses((status = 204), (status = 400, body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 404, body = ErrorEnvelope)))]
pub async fn decide(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(req): ApiJson<DeviceDecision>,
) -> ApiResult<StatusCode> {
    require_browser(&auth)?;
    let code = user_code(&req.user_code)?;
    signins::decide_device(&state, auth.id, &auth.username, &code, req.approve).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A device is approved from the console: a token or another CLI cannot vouch for a terminal.
fn require_browser(auth: &AuthUser) -> ApiResult<()> {
    if auth.method != AuthMethod::Password {
        return Err(ApiError::forbidden(
            "approve a command-line sign-in from the console, signed in there",
        ));
    }
    Ok(())
}

fn user_code(typed: &str) -> ApiResult<String> {
    normalise_user_code(typed).ok_or_else(|| {
        ApiError::validation(
            "user_code",
            "eight letters as the command line showed them, such as WDJB-MJHT",
        )
    })
}
