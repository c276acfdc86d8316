//! Sign-in (password + TOTP or a recovery code), sign-out, `whoami`, TOTP enrolment, step-up
//! verification and recovery codes.

use crate::auth::{cookie, password, secrets, totp};
use crate::core::audit::{self, FAILURE, SUCCESS};
use crate::core::signins;
use crate::core::state::AppState;
use crate::core::stepup::{self, CodeKind, StepUp};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, AuthUser, PeerAddr};
use crate::store::audit::NewEvent;
use crate::store::{logins, settings, throttle, users, work_sessions, WriteTx};
use crate::time::now;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Duration;
use gatehouse_shared::api::{
    ChangePassword, LoginRequest, LoginResponse, MfaVerified, MfaVerify, OtpBody, PrincipalKind,
    RecoveryCodes, TotpEnrollment, WhoAmI,
};
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::gate::AuthMethod;
use gatehouse_shared::signin::{CliLoginResponse, SigninClient};
use gatehouse_shared::user::MAX_PASSWORD_LEN;
use gatehouse_shared::{ErrorCode, ErrorEnvelope};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/whoami", get(whoami))
        .route("/api/auth/mfa/totp", post(totp_enroll))
        .route("/api/auth/mfa/totp/confirm", post(totp_confirm))
        .route("/api/auth/password", post(change_password))
        .route("/api/auth/mfa/verify", post(mfa_verify))
        .route("/api/auth/mfa/recovery-codes", post(recovery_codes))
}

/// Step-up: prove a current one-time code (or a recovery code, spent) on this sign-in, so
/// operations that need recent MFA may run for the next `mfa_timeout_secs`. Cookie sign-ins
/// only; wrong codes count against the same limits as failed sign-ins.
#[utoipa::path(post, path = "/api/auth/mfa/verify", tag = "identity", request_body = MfaVerify,
    responses((status = 200, body = MfaVerified), (status = 400, body = ErrorEnvelope),
              (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
              (status = 429, body = ErrorEnvelope)))]
pub async fn mfa_verify(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    auth: AuthUser,
    ApiJson(body): ApiJson<MfaVerify>,
) -> ApiResult<Json<MfaVerified>> {
    let Some(login) = &auth.login else {
        return Err(ApiError::forbidden(
            "an API token has no sign-in to verify; this is for interactive sign-ins",
        ));
    };
    let row = users::by_id(&state.db, state.workspace, auth.id)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("sign in again"))?;
    if row.totp_secret.is_none() {
        return Err(StepUp::EnrolmentRequired.into());
    }
    let reserved = reserve_attempt(&state, &auth.username, &peer.to_string()).await?;
    let at = now();
    let Some(kind) = stepup::accept_code(&state, &row, &body.otp, at).await? else {
        audit::record_event(
            &state,
            audit::event(AuditAction::AuthMfa, FAILURE)
                .actor(&auth.username)
                .details(serde_json::json!({"reason": "otp_invalid_or_reused", "step_up": true})),
        )
        .await?;
        return Err(ApiError::validation(
            "otp",
            "the code is not right or was already used; wait for the next one",
        ));
    };
    let mut tx = WriteTx::begin(&state.db, state.workspace, at).await?;
    logins::set_mfa_verified(&mut tx, &login.token_hash).await?;
    tx.commit(
        audit::event(AuditAction::AuthMfaVerified, SUCCESS)
            .actor(&auth.username)
            .details(serde_json::json!({"with": match kind {
                CodeKind::Totp => "totp",
                CodeKind::Recovery => "recovery_code",
            }})),
    )
    .await?;
    throttle::release(&state.db, state.workspace, &reserved).await?;
    Ok(Json(MfaVerified {
        mfa_verified_at: at,
        recovery_codes_left: users::recovery_codes_left(&state.db, state.workspace, auth.id)
            .await?,
    }))
}

/// Ten new recovery codes (step-up), replacing any earlier set; shown only in this answer.
#[utoipa::path(post, path = "/api/auth/mfa/recovery-codes", tag = "identity",
    responses((status = 200, body = RecoveryCodes), (status = 401, body = ErrorEnvelope),
              (status = 403, body = ErrorEnvelope)))]
pub async fn recovery_codes(
    State(state): State<AppState>,
    auth: AuthUser,
) -> ApiResult<Json<RecoveryCodes>> {
    let row = auth.require_mfa_step_up(&state).await?;
    let codes = crate::core::admin::generate_recovery_codes(&state, &row, now()).await?;
    Ok(Json(RecoveryCodes { codes }))
}

/// Change one's own password: the current one is checked, and every other sign-in ends.
#[utoipa::path(post, path = "/api/auth/password", tag = "auth", request_body = ChangePassword,
    responses((status = 204), (status = 400, body = ErrorEnvelope)))]
pub async fn change_password(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(req): ApiJson<ChangePassword>,
) -> ApiResult<StatusCode> {
    let keep = auth.login.as_ref().map(|l| l.token_hash.as_str());
    crate::core::admin::change_own_password(
        &state.db,
        state.workspace,
        auth.id,
        req.current,
        req.new,
        keep,
        now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

const GENERIC_FAILURE: &str = "invalid username or password";

/// Reserves this attempt against the account and peer limits, or refuses with 429.
async fn reserve_attempt(state: &AppState, username: &str, peer: &str) -> ApiResult<Vec<i64>> {
    let limits = state.config.throttle;
    let keys = [
        throttle::Limit {
            key: format!("user:{username}"),
            max: limits.per_account,
        },
        throttle::Limit {
            key: format!("peer:{peer}"),
            max: limits.per_peer,
        },
    ];
    let window = Duration::seconds(limits.window_secs);
    match throttle::reserve(&state.db, state.workspace, &keys, now(), window).await? {
        Ok(ids) => Ok(ids),
        Err(wait) => Err(ApiError::rate_limited(wait)),
    }
}

/// Sign in with password (and TOTP once enrolled); sets the session cookie, or with
/// `client: "cli"` answers a `ghs_` bearer secret for the `gate` CLI instead.
#[utoipa::path(post, path = "/api/auth/login", tag = "identity", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse,
               description = "A browser sign-in; with `client: \"cli\"` the body is a CliLoginResponse"),
              (status = 401, body = ErrorEnvelope), (status = 429, body = ErrorEnvelope)))]
pub async fn login(
    State(state): State<AppState>,
    PeerAddr(peer): PeerAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let username = req.username.trim().to_owned();
    let cli_name = match req.client {
        Some(SigninClient::Cli) => Some(signins::client_name(req.client_name.as_deref())?),
        _ => None,
    };
    // The attempt counts as a failure until it succeeds.
    let reserved = reserve_attempt(&state, &username, &peer.to_string()).await?;
    let row = users::by_username(&state.db, state.workspace, &username).await?;
    let password_ok = req.password.chars().count() <= MAX_PASSWORD_LEN
        && password::verify(req.password, row.as_ref().map(|r| r.password_hash.clone())).await;
    let Some(row) = row.filter(|_| password_ok) else {
        audit::record_event(
            &state,
            audit::event(AuditAction::AuthLogin, FAILURE)
                .target(&username)
                .details(
                    serde_json::json!({"peer": peer.to_string(), "reason": "bad_credentials"}),
                ),
        )
        .await?;
        return Err(ApiError::unauthenticated(GENERIC_FAILURE));
    };
    let user = row.to_user()?;
    // Told only to someone who knows the password: a guess learns nothing new.
    if user.disabled {
        audit::record_event(
            &state,
            audit::event(AuditAction::AuthLogin, FAILURE)
                .target(&username)
                .details(serde_json::json!({"peer": peer.to_string(), "reason": "disabled"})),
        )
        .await?;
        return Err(ApiError::forbidden(
            "this account is disabled; ask an administrator",
        ));
    }
    let mut mfa_verified_at = None;
    if row.totp_secret.is_some() {
        let Some(otp) = req.otp.as_deref() else {
            // The password was right: asking for the code is not a failed attempt.
            throttle::release(&state.db, state.workspace, &reserved).await?;
            audit::record_event(
                &state,
                audit::event(AuditAction::AuthMfa, FAILURE)
                    .actor(&user.username)
                    .details(serde_json::json!({"reason": "otp_missing"})),
            )
            .await?;
            return Err(ApiError::new(
                ErrorCode::MfaRequired,
                "a one-time code from your authenticator app is required",
            ));
        };
        let now = now();
        if stepup::accept_code(&state, &row, otp, now).await?.is_none() {
            audit::record_event(
                &state,
                audit::event(AuditAction::AuthMfa, FAILURE)
                    .actor(&user.username)
                    .details(serde_json::json!({"reason": "otp_invalid_or_reused"})),
            )
            .await?;
            return Err(ApiError::unauthenticated(
                "invalid or already used one-time code",
            ));
        }
        mfa_verified_at = Some(now);
    }
    let now = now();
    let peer = peer.to_string();
    let mut tx = WriteTx::begin(&state.db, state.workspace, now).await?;
    if let Some(name) = cli_name {
        // Headless `gate login --password`: a bearer secret in the answer, no cookie.
        let issued = signins::issue_cli_signin(
            &state,
            &mut tx,
            user.id,
            Some(&name),
            &peer,
            mfa_verified_at,
        )
        .await?;
        tx.commit(login_event(
            &user.username,
            &peer,
            mfa_verified_at.is_some(),
            Some(&name),
        ))
        .await?;
        signed_in(&state, &reserved, &username).await?;
        let must_change_password = user.must_change_password;
        return Ok(Json(CliLoginResponse {
            user,
            access_token: issued.secret,
            expires_at: issued.expires_at,
            must_change_password,
        })
        .into_response());
    }
    let token = secrets::random_secret();
    let csrf_token = secrets::random_secret();
    let ttl = state.config.login_ttl_secs;
    logins::insert(
        &mut tx,
        state.workspace,
        &logins::NewLogin {
            token_hash: &secrets::sha256_hex(&token),
            user_id: user.id,
            csrf_token: &csrf_token,
            expires_at: now + Duration::seconds(ttl),
            mfa_verified_at,
            client: SigninClient::Browser,
            client_name: None,
            address: &peer,
        },
        now,
    )
    .await?;
    tx.commit(login_event(
        &user.username,
        &peer,
        mfa_verified_at.is_some(),
        None,
    ))
    .await?;
    signed_in(&state, &reserved, &username).await?;
    let mut headers = HeaderMap::new();
    if let Some(value) = cookie::set_cookie(&token, ttl, state.config.secure_cookies) {
        headers.insert(header::SET_COOKIE, value);
    }
    let must_change_password = user.must_change_password;
    Ok((
        headers,
        Json(LoginResponse {
            user,
            csrf_token,
            must_change_password,
        }),
    )
        .into_response())
}

fn login_event(username: &str, peer: &str, mfa: bool, cli_name: Option<&str>) -> NewEvent {
    let mut details = serde_json::json!({"peer": peer, "mfa": mfa});
    if let Some(name) = cli_name {
        details["client"] = "cli".into();
        details["client_name"] = name.into();
    }
    audit::event(AuditAction::AuthLogin, SUCCESS)
        .actor(username)
        .details(details)
}

/// A right password and code: the attempt no longer counts, nor do the account's failures.
async fn signed_in(state: &AppState, reserved: &[i64], username: &str) -> ApiResult<()> {
    throttle::release(&state.db, state.workspace, reserved).await?;
    throttle::clear(&state.db, state.workspace, &format!("user:{username}")).await?;
    Ok(())
}

/// Sign out: forgets the sign-in and clears the cookie.
#[utoipa::path(post, path = "/api/auth/logout", tag = "identity",
    responses((status = 204), (status = 401, body = ErrorEnvelope)))]
pub async fn logout(State(state): State<AppState>, auth: AuthUser) -> ApiResult<impl IntoResponse> {
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    if let Some(login) = &auth.login {
        logins::delete(&mut tx, state.workspace, &login.token_hash).await?;
    }
    tx.commit(audit::event(AuditAction::AuthLogout, SUCCESS).actor(&auth.username))
        .await?;
    let mut headers = HeaderMap::new();
    if let Some(value) = cookie::clear_cookie(state.config.secure_cookies) {
        headers.insert(header::SET_COOKIE, value);
    }
    Ok((StatusCode::NO_CONTENT, headers))
}

/// Who the caller is, how they signed in, and their selected work session.
#[utoipa::path(get, path = "/api/auth/whoami", tag = "identity",
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorEnvelope)))]
pub async fn whoami(State(state): State<AppState>, auth: AuthUser) -> ApiResult<Json<WhoAmI>> {
    let row = users::by_id(&state.db, state.workspace, auth.id)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("sign in again"))?;
    let active = match auth.login.as_ref().and_then(|l| l.active_work_session) {
        Some(id) => work_sessions::get(&state.db, state.workspace, id).await?,
        None => None,
    };
    let user = row.to_user()?;
    let mfa_enrolment_required = auth.method.is_interactive()
        && !user.mfa_enabled
        && settings::get(&state.db, state.workspace)
            .await?
            .require_mfa_enrolment;
    Ok(Json(WhoAmI {
        mfa_enrolment_required,
        must_change_password: user.must_change_password,
        mfa_verified_at: auth.login.as_ref().and_then(|l| l.mfa_verified_at),
        user,
        auth_method: auth.method,
        work_session_required: auth.method.is_interactive(),
        active_work_session: active,
        // A bearer sign-in needs no CSRF token: only the browser's cookie is sent on its own.
        csrf_token: auth
            .login
            .filter(|_| auth.method == AuthMethod::Password)
            .map(|l| l.csrf_token),
        principal: if row.is_service() {
            PrincipalKind::ServiceAccount
        } else {
            PrincipalKind::User
        },
    }))
}

/// Start TOTP enrolment: returns a new secret to confirm with a code.
#[utoipa::path(post, path = "/api/auth/mfa/totp", tag = "identity",
    responses((status = 200, body = TotpEnrollment), (status = 409, body = ErrorEnvelope)))]
pub async fn totp_enroll(
    State(state): State<AppState>,
    auth: AuthUser,
) -> ApiResult<Json<TotpEnrollment>> {
    auth.require_step_up(&state).await?;
    let row = users::by_id(&state.db, state.workspace, auth.id)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("sign in again"))?;
    if row.totp_secret.is_some() {
        return Err(ApiError::conflict(
            "TOTP is already enrolled for this account",
        ));
    }
    let secret = totp::new_secret();
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    users::set_pending_totp(&mut tx, state.workspace, auth.id, &secret).await?;
    tx.commit(audit::event(AuditAction::AuthMfaEnrollStarted, SUCCESS).actor(&auth.username))
        .await?;
    Ok(Json(TotpEnrollment {
        otpauth_uri: totp::otpauth_uri(&secret, &auth.username),
        secret,
    }))
}

/// Confirm TOTP enrolment with a current code; from then on sign-in needs a code.
#[utoipa::path(post, path = "/api/auth/mfa/totp/confirm", tag = "identity", request_body = OtpBody,
    responses((status = 204), (status = 400, body = ErrorEnvelope)))]
pub async fn totp_confirm(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<OtpBody>,
) -> ApiResult<StatusCode> {
    auth.require_step_up(&state).await?;
    let row = users::by_id(&state.db, state.workspace, auth.id)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("sign in again"))?;
    let Some(pending) = row.totp_pending_secret else {
        return Err(ApiError::conflict(
            "start enrolment first: POST /api/auth/mfa/totp",
        ));
    };
    let Some(step) = totp::matching_step(&pending, &body.otp, now()) else {
        audit::record_event(
            &state,
            audit::event(AuditAction::AuthMfaConfirm, FAILURE).actor(&auth.username),
        )
        .await?;
        return Err(ApiError::validation(
            "otp",
            "the code does not match; check the device clock",
        ));
    };
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    if !users::confirm_totp(&mut tx, state.workspace, auth.id, step).await? {
        return Err(ApiError::conflict(
            "enrolment changed meanwhile; start again",
        ));
    }
    tx.commit(audit::event(AuditAction::AuthMfaEnrolled, SUCCESS).actor(&auth.username))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
