//! CLI sign-ins and device sign-in (RFC 8628).
//!
//! A CLI sign-in is a person at a terminal: a `ghs_` bearer secret kept hashed beside the
//! browser's cookie sign-ins, with the same expiry rules, step-up time and selected work
//! session, so it needs work sessions exactly like the browser. It is never an API token.
//! Device sign-in lets the CLI get one without a password crossing the terminal: the CLI asks,
//! the person checks the code in the console (signed in there, with their own MFA) and
//! approves, and the CLI's next poll turns the approval into a sign-in, once.

use crate::auth::secrets;
use crate::core::audit::{self, SUCCESS};
use crate::core::state::AppState;
use crate::core::CoreError;
use crate::store::devices::{self, DeviceStatus, NewDevice};
use crate::store::{logins, settings, users, StoreError, WriteTx};
use crate::time::now;
use chrono::{DateTime, Duration, Utc};
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::signin::{
    DeviceAuthorization, PendingDevice, SigninClient, CLI_SIGNIN_PREFIX, MAX_CLIENT_NAME_LEN,
};
use gatehouse_shared::{User, UserId};

/// How long a device request waits for its person.
pub const DEVICE_TTL_SECS: i64 = 600;
/// The poll interval a CLI is first told (RFC 8628's default).
pub const DEVICE_INTERVAL_SECS: i64 = 5;
/// What `slow_down` adds to the interval.
const SLOW_DOWN_STEP_SECS: i64 = 5;

/// A new CLI sign-in: its secret (shown once) and when it expires.
pub struct IssuedSignin {
    pub secret: String,
    pub expires_at: DateTime<Utc>,
}

/// Records a CLI sign-in for `user` inside `tx`, expiring after the workspace's
/// `cli_signin_ttl_secs`.
pub async fn issue_cli_signin(
    state: &AppState,
    tx: &mut WriteTx,
    user: UserId,
    client_name: Option<&str>,
    address: &str,
    mfa_verified_at: Option<DateTime<Utc>>,
) -> Result<IssuedSignin, CoreError> {
    let ttl = settings::get(&state.db, state.workspace)
        .await?
        .cli_signin_ttl_secs;
    let at = tx.at();
    let secret = format!("{CLI_SIGNIN_PREFIX}{}", secrets::random_secret());
    let expires_at = at + Duration::seconds(ttl);
    logins::insert(
        tx,
        state.workspace,
        &logins::NewLogin {
            token_hash: &secrets::sha256_hex(&secret),
            user_id: user,
            // A bearer secret is not sent by a browser on its own, so it needs no CSRF token;
            // one is kept anyway so the row has the shape of every sign-in.
            csrf_token: &secrets::random_secret(),
            expires_at,
            mfa_verified_at,
            client: SigninClient::Cli,
            client_name,
            address,
        },
        at,
    )
    .await?;
    Ok(IssuedSignin { secret, expires_at })
}

/// A client name as the approver will see it: trimmed, bounded, printable.
pub fn client_name(given: Option<&str>) -> Result<String, CoreError> {
    let name = given.map(str::trim).unwrap_or_default();
    if name.chars().count() > MAX_CLIENT_NAME_LEN {
        return Err(CoreError::invalid(
            "client_name",
            format!("at most {MAX_CLIENT_NAME_LEN} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "client_name",
            "control characters are not allowed",
        ));
    }
    Ok(if name.is_empty() {
        "gate".to_owned()
    } else {
        name.to_owned()
    })
}

/// Starts a device sign-in from `address`; `origin` is this server as the CLI reached it.
pub async fn request_device(
    state: &AppState,
    client_name: &str,
    address: &str,
    origin: &str,
) -> Result<DeviceAuthorization, CoreError> {
    let device_code = secrets::random_secret();
    let hash = secrets::sha256_hex(&device_code);
    let at = now();
    // A user code is drawn again in the rare case it collides with a live one.
    for _ in 0..5 {
        let user_code = secrets::random_user_code();
        let mut tx = WriteTx::begin(&state.db, state.workspace, at).await?;
        let inserted = devices::insert(
            &mut tx,
            &NewDevice {
                device_code_hash: &hash,
                user_code: &user_code,
                client_name,
                address,
                expires_at: at + Duration::seconds(DEVICE_TTL_SECS),
                interval_secs: DEVICE_INTERVAL_SECS,
            },
        )
        .await;
        match inserted {
            Err(StoreError::Duplicate) => continue,
            other => other?,
        }
        tx.commit(
            audit::event(AuditAction::AuthDeviceRequested, SUCCESS)
                .target(client_name)
                .details(serde_json::json!({"peer": address, "user_code": user_code})),
        )
        .await?;
        return Ok(DeviceAuthorization {
            device_code,
            verification_uri: format!("{origin}/device"),
            verification_uri_complete: format!("{origin}/device?user_code={user_code}"),
            user_code,
            expires_in: DEVICE_TTL_SECS,
            interval: DEVICE_INTERVAL_SECS,
        });
    }
    Err(CoreError::Internal("no free device user code"))
}

/// Why a poll has no sign-in to hand out (RFC 8628 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotYet {
    /// Nobody decided yet.
    Pending,
    /// Polled sooner than the interval; the new interval is this many seconds.
    SlowDown(i64),
    /// Expired, unknown, or already turned into a sign-in.
    Expired,
    /// The person denied it.
    Denied,
}

/// A CLI's poll: the new sign-in once approved, else why not.
pub async fn poll_device(
    state: &AppState,
    device_code: &str,
) -> Result<Result<(IssuedSignin, User), NotYet>, CoreError> {
    let hash = secrets::sha256_hex(device_code.trim());
    let at = now();
    let Some(request) = devices::by_device_code(&state.db, state.workspace, &hash).await? else {
        return Ok(Err(NotYet::Expired));
    };
    match request.status {
        DeviceStatus::Issued => return Ok(Err(NotYet::Expired)),
        DeviceStatus::Denied => return Ok(Err(NotYet::Denied)),
        _ if request.expires_at <= at => return Ok(Err(NotYet::Expired)),
        DeviceStatus::Pending => {
            let too_soon = request
                .last_polled_at
                .is_some_and(|last| at < last + Duration::seconds(request.interval_secs));
            let interval = request.interval_secs + if too_soon { SLOW_DOWN_STEP_SECS } else { 0 };
            devices::polled(&state.db, state.workspace, &hash, at, interval).await?;
            return Ok(Err(if too_soon {
                NotYet::SlowDown(interval)
            } else {
                NotYet::Pending
            }));
        }
        DeviceStatus::Approved => {}
    }
    let user_id = request.user.ok_or(CoreError::Internal(
        "an approved device request without its person",
    ))?;
    // Whoever approved may have been disabled since: the sign-in is not handed out.
    let Some(row) = users::by_id(&state.db, state.workspace, user_id)
        .await?
        .filter(|u| u.disabled_at.is_none())
    else {
        return Ok(Err(NotYet::Denied));
    };
    let user = row.to_user().map_err(CoreError::Store)?;
    let mut tx = WriteTx::begin(&state.db, state.workspace, at).await?;
    if !devices::mark_issued(&mut tx, &hash).await? {
        return Ok(Err(NotYet::Expired));
    }
    // The approval proved the person, not a fresh code on this terminal: root work from the
    // CLI asks for `gate mfa verify` first.
    let issued = issue_cli_signin(
        state,
        &mut tx,
        user.id,
        Some(&request.client_name),
        &request.address,
        None,
    )
    .await?;
    tx.commit(
        audit::event(AuditAction::AuthLogin, SUCCESS)
            .actor(&user.username)
            .details(serde_json::json!({
                "peer": request.address,
                "client": "cli",
                "client_name": request.client_name,
                "via": "device",
            })),
    )
    .await?;
    Ok(Ok((issued, user)))
}

/// What the console shows about a pending request before the person decides.
pub async fn describe_device(
    state: &AppState,
    user_code: &str,
) -> Result<PendingDevice, CoreError> {
    let request = devices::by_user_code(&state.db, state.workspace, user_code)
        .await?
        .filter(|r| r.status == DeviceStatus::Pending && r.expires_at > now())
        .ok_or(CoreError::NotFound("device sign-in request"))?;
    Ok(PendingDevice {
        user_code: request.user_code,
        client_name: request.client_name,
        address: request.address,
        requested_at: request.created_at,
        expires_at: request.expires_at,
    })
}

/// `decider` approves or denies the pending request `user_code`.
pub async fn decide_device(
    state: &AppState,
    decider: UserId,
    decider_name: &str,
    user_code: &str,
    approve: bool,
) -> Result<(), CoreError> {
    let mut tx = WriteTx::begin(&state.db, state.workspace, now()).await?;
    if !devices::decide(&mut tx, user_code, decider, approve).await? {
        return Err(CoreError::NotFound("device sign-in request"));
    }
    let action = if approve {
        AuditAction::AuthDeviceApproved
    } else {
        AuditAction::AuthDeviceDenied
    };
    tx.commit(
        audit::event(action, SUCCESS)
            .actor(decider_name)
            .details(serde_json::json!({"user_code": user_code})),
    )
    .await?;
    Ok(())
}
