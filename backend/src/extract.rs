//! Typed extractors: JSON, path and query that fail with our envelope, the caller's peer
//! address, and the authenticated principal (`AuthUser`) with its CSRF check, narrowed by role
//! (`Staff`, `Superuser`) so that a role check runs before any body is read or validated.

use crate::auth::{cookie, secrets};
use crate::core::admin::By;
use crate::core::state::AppState;
use crate::error::ApiError;
use crate::store::{logins, settings, tokens, users};
use crate::time::{now, opt_from_micros};
use axum::extract::rejection::JsonRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use gatehouse_shared::gate::{AuthMethod, Principal};
use gatehouse_shared::lifecycle::Actor;
use gatehouse_shared::signin::{SigninClient, CLI_SIGNIN_PREFIX};
use gatehouse_shared::{ErrorCode, Role, TokenId, UserId, UserRef, WorkSessionId};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// A JSON body; any failure (syntax, types, unknown fields, size) becomes the error envelope.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::new(ErrorCode::ValidationError, e.body_text()),
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::bad_request("the request body is not valid JSON")
        }
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::bad_request("expected a JSON body with Content-Type: application/json")
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than this endpoint accepts",
        ),
        other => ApiError::bad_request(other.body_text()),
    }
}

/// An optional JSON body: an empty body is `T::default()`, anything else must parse.
#[derive(Debug)]
pub struct ApiJsonOrDefault<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for ApiJsonOrDefault<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
                } else {
                    ApiError::bad_request(e.body_text())
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(ApiJsonOrDefault(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(ApiJsonOrDefault)
            .map_err(|e| match e.classify() {
                serde_json::error::Category::Data => {
                    ApiError::new(ErrorCode::ValidationError, e.to_string())
                }
                _ => ApiError::bad_request("the request body is not valid JSON"),
            })
    }
}

/// Path parameters; a malformed id names nothing that exists, so it is a 404.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|_| ApiError::not_found("resource"))
    }
}

/// Query parameters; bad ones are a 400 naming the problem.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// The connecting peer's address. `X-Forwarded-For` counts only when the direct peer is a
/// configured trusted proxy; then its right-most entry (the one that proxy added) is used.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub IpAddr);

impl FromRequestParts<AppState> for PeerAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let direct = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .or_else(|| {
                parts
                    .extensions
                    .get::<ConnectInfo<crate::tls::TlsPeer>>()
                    .map(|ConnectInfo(peer)| peer.0.ip())
            })
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        if !state.config.trusted_proxies.contains(&direct) {
            return Ok(PeerAddr(direct));
        }
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|ip| ip.trim().parse().ok());
        Ok(PeerAddr(forwarded.unwrap_or(direct)))
    }
}

/// A browser sign-in behind the request.
#[derive(Debug, Clone)]
pub struct Login {
    pub token_hash: String,
    pub csrf_token: String,
    pub active_work_session: Option<WorkSessionId>,
    pub mfa_verified_at: Option<DateTime<Utc>>,
}

/// The authenticated caller: a cookie sign-in or an API token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub method: AuthMethod,
    pub login: Option<Login>,
    pub token: Option<TokenId>,
}

/// What a person whose password was reset may still call before choosing a new one.
const PASSWORD_CHANGE_PATHS: &[&str] =
    &["/api/auth/whoami", "/api/auth/logout", "/api/auth/password"];

/// What a person who must enrol in two-factor sign-in may still call before they have.
const MFA_ENROLMENT_PATHS: &[&str] = &[
    "/api/auth/whoami",
    "/api/auth/logout",
    "/api/auth/mfa/totp",
    "/api/auth/mfa/totp/confirm",
];

/// The header that carries the CSRF token on cookie-authenticated state changes.
pub const CSRF_HEADER: &str = "x-csrf-token";

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthenticated = || ApiError::unauthenticated("sign in or present an API token");
        let now = now();
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let (user_id, method, login, token) = match bearer.map(str::trim) {
            Some(secret) if secret.starts_with(CLI_SIGNIN_PREFIX) => {
                let row = signin_row(state, secret, SigninClient::Cli, now).await?;
                let user_id = crate::store::parse_id(&row.user_id)?;
                (user_id, AuthMethod::Cli, Some(Login::from(row)), None)
            }
            Some(secret) => {
                let hash = secrets::sha256_hex(secret);
                let (token_id, user_id) =
                    tokens::authenticate(&state.db, state.workspace, &hash, now)
                        .await?
                        .ok_or_else(unauthenticated)?;
                (user_id, AuthMethod::ApiToken, None, Some(token_id))
            }
            None => {
                let secret = cookie::read(&parts.headers).ok_or_else(unauthenticated)?;
                let row = signin_row(state, &secret, SigninClient::Browser, now).await?;
                if !is_safe(&parts.method) {
                    let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                    if !sent.is_some_and(|s| secrets::constant_time_eq(s, &row.csrf_token)) {
                        return Err(ApiError::new(
                            ErrorCode::CsrfRequired,
                            "state-changing requests need the X-CSRF-Token header from sign-in",
                        ));
                    }
                }
                let user_id = crate::store::parse_id(&row.user_id)?;
                (user_id, AuthMethod::Password, Some(Login::from(row)), None)
            }
        };
        // A disabled person's token (and any sign-in that outlived the disabling) is refused.
        let user = users::by_id(&state.db, state.workspace, user_id)
            .await?
            .filter(|u| u.disabled_at.is_none())
            .ok_or_else(unauthenticated)?;
        // After a staff reset the one-time password buys only the way to replace it: a
        // password someone else has seen must not open anything else, token or cookie.
        if user.must_change_password && !PASSWORD_CHANGE_PATHS.contains(&parts.uri.path()) {
            return Err(ApiError::new(
                ErrorCode::PasswordChangeRequired,
                "your password was reset: choose a new one (POST /api/auth/password) first",
            ));
        }
        // A workspace that requires two-factor sign-in sends a person who has not enrolled to
        // enrol before anything else; the console shows only that. API tokens never carry a
        // code, so the rule is for sign-ins.
        if method.is_interactive()
            && user.totp_secret.is_none()
            && !MFA_ENROLMENT_PATHS.contains(&parts.uri.path())
            && settings::get(&state.db, state.workspace)
                .await?
                .require_mfa_enrolment
        {
            return Err(ApiError::new(
                ErrorCode::MfaEnrolmentRequired,
                "this workspace requires two-factor sign-in: enrol an authenticator app \
                 (POST /api/auth/mfa/totp, then /api/auth/mfa/totp/confirm) first",
            ));
        }
        // A service account's token is told apart, so `whoami` and the audit can say so.
        let method = if method == AuthMethod::ApiToken && user.is_service() {
            AuthMethod::ServiceToken
        } else {
            method
        };
        Ok(AuthUser {
            id: user_id,
            username: user.username.clone(),
            role: user.role()?,
            method,
            login,
            token,
        })
    }
}

/// How often a sign-in's "last used" time is written: often enough for the list people see,
/// rarely enough that requests do not each write.
const TOUCH_EVERY_SECS: i64 = 60;

/// The unexpired sign-in of `client` whose secret is `secret`, noted as used.
async fn signin_row(
    state: &AppState,
    secret: &str,
    client: SigninClient,
    now: DateTime<Utc>,
) -> Result<logins::LoginRow, ApiError> {
    let hash = secrets::sha256_hex(secret);
    let row = logins::find(&state.db, state.workspace, &hash, now)
        .await?
        .filter(|row| row.client().is_ok_and(|c| c == client))
        .ok_or_else(|| ApiError::unauthenticated("sign in or present an API token"))?;
    let stale = opt_from_micros(row.last_used_at)
        .is_none_or(|at| now - at >= chrono::Duration::seconds(TOUCH_EVERY_SECS));
    if stale {
        logins::touch(&state.db, state.workspace, &hash, now).await?;
    }
    Ok(row)
}

impl From<logins::LoginRow> for Login {
    fn from(row: logins::LoginRow) -> Self {
        Login {
            active_work_session: row.active_work_session.and_then(|s| s.parse().ok()),
            mfa_verified_at: opt_from_micros(row.mfa_verified_at),
            token_hash: row.token_hash,
            csrf_token: row.csrf_token,
        }
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl AuthUser {
    /// The caller as the services name the author of a change.
    pub fn by(&self) -> By<'_> {
        By {
            id: Some(self.id),
            name: &self.username,
        }
    }

    pub fn user_ref(&self) -> UserRef {
        UserRef {
            id: self.id,
            username: self.username.clone(),
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::User {
            user: self.user_ref(),
            role: self.role,
        }
    }

    pub fn principal(&self) -> Principal {
        Principal {
            user_id: self.id,
            auth_method: self.method,
        }
    }

    /// Refuses API tokens: what only a person signed in may do (never automation).
    pub fn require_interactive(&self) -> Result<(), ApiError> {
        if self.login.is_none() {
            return Err(ApiError::forbidden(
                "this needs an interactive sign-in; an API token cannot do it",
            ));
        }
        Ok(())
    }

    /// Privileged account changes (new API tokens, MFA enrolment) need an interactive sign-in,
    /// and, once TOTP is enrolled, a code verified within the workspace's MFA timeout.
    pub async fn require_step_up(&self, state: &AppState) -> Result<(), ApiError> {
        let Some(login) = &self.login else {
            return Err(ApiError::forbidden(
                "this needs an interactive sign-in; an API token cannot do it",
            ));
        };
        let row = users::by_id(&state.db, state.workspace, self.id)
            .await?
            .ok_or_else(|| ApiError::unauthenticated("sign in again"))?;
        if row.totp_secret.is_some() {
            let timeout = crate::core::stepup::mfa_timeout_secs(state).await?;
            let fresh = login
                .mfa_verified_at
                .is_some_and(|at| (now() - at).num_seconds() <= timeout);
            if !fresh {
                // Still `forbidden`, as released; the way out is now a code, not a new sign-in.
                let mut refusal = ApiError::forbidden(
                    "confirm a current code from your authenticator app first (step-up MFA), \
                     then try again",
                );
                refusal.0.next_actions = vec!["POST /api/auth/mfa/verify".to_owned()];
                return Err(refusal);
            }
        }
        Ok(())
    }

    /// Admin operations on accounts (resets, recovery codes) need an interactive sign-in that
    /// proved a one-time code within `mfa_timeout_secs`: API tokens never do them, a caller
    /// without TOTP is told to enrol (403 `mfa_enrolment_required`), and a stale or missing
    /// proof is 401 `mfa_step_up_required`, naming `POST /api/auth/mfa/verify`. The caller's
    /// row, as read for the check.
    pub async fn require_mfa_step_up(&self, state: &AppState) -> Result<users::UserRow, ApiError> {
        let Some(login) = &self.login else {
            return Err(ApiError::forbidden(
                "an API token can never do this; sign in to the console",
            ));
        };
        let row = users::by_id(&state.db, state.workspace, self.id)
            .await?
            .ok_or_else(|| ApiError::unauthenticated("sign in again"))?;
        crate::core::stepup::check(state, &row, login.mfa_verified_at, now()).await??;
        Ok(row)
    }

    pub fn require_staff(&self) -> Result<(), ApiError> {
        if self.role.is_staff_or_above() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "this needs the staff or superuser role",
            ))
        }
    }

    pub fn require_superuser(&self) -> Result<(), ApiError> {
        if self.role == Role::Superuser {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs the superuser role"))
        }
    }
}

/// A caller with the staff role or above. As an extractor it refuses everyone else with 403
/// before the body is read, so a member learns nothing from an admin endpoint's validation.
#[derive(Debug, Clone)]
pub struct Staff(pub AuthUser);

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = AuthUser::from_request_parts(parts, state).await?;
        auth.require_staff()?;
        Ok(Staff(auth))
    }
}

/// A superuser caller; everyone else gets 403 before the body is read.
#[derive(Debug, Clone)]
pub struct Superuser(pub AuthUser);

impl FromRequestParts<AppState> for Superuser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = AuthUser::from_request_parts(parts, state).await?;
        auth.require_superuser()?;
        Ok(Superuser(auth))
    }
}

/// A WebSocket upgrade whose `Origin` was checked first. Every upgrade takes this extractor, so
/// a cross-site page can never open a socket with the visitor's cookie: browsers always send
/// `Origin` on a WebSocket and it must be this server's own; non-browser clients (agents, the
/// CLI) send none and authenticate with their own credential. A request that is not an upgrade
/// passes the check and is refused by [`WsUpgrade::upgrade`], so the handler may first answer
/// what it must (an agent's bad credential) in its own order.
#[derive(Debug)]
pub struct WsUpgrade(Option<WebSocketUpgrade>);

impl<S: Send + Sync> FromRequestParts<S> for WsUpgrade {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if !same_origin(&parts.headers) {
            return Err(ApiError::forbidden("cross-origin WebSocket refused"));
        }
        Ok(WsUpgrade(
            WebSocketUpgrade::from_request_parts(parts, state)
                .await
                .ok(),
        ))
    }
}

impl WsUpgrade {
    /// The upgrade, or the envelope for a plain HTTP request.
    pub fn upgrade(self) -> Result<WebSocketUpgrade, ApiError> {
        self.0
            .ok_or_else(|| ApiError::bad_request("this endpoint speaks WebSocket only"))
    }

    /// The upgrade of a client stream (websh, exec): messages up to 1 MiB are read whole, well
    /// past what the streams accept (64 KiB), so one between the two is refused with 1009 and
    /// its close frame arrives instead of a reset; nothing is buffered on the way out.
    pub fn client_stream(self) -> Result<WebSocketUpgrade, ApiError> {
        const MAX_READ_MESSAGE: usize = 1024 * 1024;
        Ok(self
            .upgrade()?
            .max_message_size(MAX_READ_MESSAGE)
            .max_frame_size(MAX_READ_MESSAGE)
            .read_buffer_size(8 * 1024)
            .write_buffer_size(0))
    }
}

/// No `Origin`, or exactly this server's own (`http(s)://` + the `Host` the client used).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(host)) = (
        origin.to_str(),
        headers.get(header::HOST).and_then(|h| h.to_str().ok()),
    ) else {
        return false;
    };
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

/// `scheme://host` of this server as the caller reached it.
pub fn own_origin(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// Ends a client's WebSocket stream: sends the close frame with `code` and `reason` (cut to fit
/// the 123 bytes a close reason may take), then waits briefly for the client's reply, because
/// dropping the socket with unread frames in flight would reset the connection and lose the
/// close frame on its way.
pub async fn finish_close(
    mut sink: futures_util::stream::SplitSink<
        axum::extract::ws::WebSocket,
        axum::extract::ws::Message,
    >,
    mut stream: futures_util::stream::SplitStream<axum::extract::ws::WebSocket>,
    code: u16,
    reason: &str,
) {
    use axum::extract::ws::{CloseFrame, Message};
    use futures_util::{SinkExt, StreamExt};
    let reason: String = reason.chars().take(100).collect();
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if sink.send(Message::Close(Some(frame))).await.is_ok() {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            while let Some(Ok(msg)) = stream.next().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}
