//! Identity: first-run setup, signing in and out (which sets or forgets the CSRF token),
//! `whoami`, one's own password and MFA, through the typed client the CLI uses too.

use super::{client, set_csrf, ApiResult};
use gatehouse_shared::api::{
    LoginRequest, LoginResponse, MfaVerified, RecoveryCodes, SetupRequest, SetupStatus,
    TotpEnrollment, WhoAmI,
};
use gatehouse_shared::User;

pub async fn setup_status() -> ApiResult<SetupStatus> {
    Ok(client()?.setup_status().await?)
}

pub async fn setup(body: &SetupRequest) -> ApiResult<User> {
    Ok(client()?.setup(body).await?)
}

pub async fn login(body: &LoginRequest) -> ApiResult<LoginResponse> {
    let response = client()?.login(body).await?;
    set_csrf(Some(response.csrf_token.clone()));
    Ok(response)
}

pub async fn logout() -> ApiResult<()> {
    let result = match client() {
        Ok(c) => c.logout().await,
        Err(e) => Err(e),
    };
    // Forgotten whatever the answer: the page signs out either way.
    set_csrf(None);
    Ok(result?)
}

pub async fn whoami() -> ApiResult<WhoAmI> {
    let me = client()?.whoami().await?;
    if me.csrf_token.is_some() {
        set_csrf(me.csrf_token.clone());
    }
    Ok(me)
}

pub async fn totp_enroll() -> ApiResult<TotpEnrollment> {
    Ok(client()?.totp_enroll().await?)
}

pub async fn totp_confirm(otp: String) -> ApiResult<()> {
    Ok(client()?.totp_confirm(&otp).await?)
}

/// `POST /api/auth/password`: change one's own password (every other sign-in ends).
pub async fn change_password(current: String, new: String) -> ApiResult<()> {
    Ok(client()?.change_password(&current, &new).await?)
}

/// Step-up: proves a one-time (or recovery) code on this sign-in.
pub async fn mfa_verify(otp: String) -> ApiResult<MfaVerified> {
    Ok(client()?.mfa_verify(&otp).await?)
}

/// Ten new recovery codes, replacing any earlier set (step-up).
pub async fn recovery_codes() -> ApiResult<RecoveryCodes> {
    Ok(client()?.recovery_codes().await?)
}
