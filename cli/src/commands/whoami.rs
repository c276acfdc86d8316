//! `gate whoami` and `gate mfa verify`.

use crate::context::Context;
use crate::exit::CliError;
use crate::prompt;

pub async fn run(ctx: &Context) -> Result<i32, CliError> {
    let creds = ctx.require_credentials()?;
    let client = ctx.client_for(&creds)?;
    let me = client.whoami().await?;
    let selected = ctx.selected_session(&creds);
    let session = me
        .active_work_session
        .as_ref()
        .map(|s| format!("{} ({}, {})", s.id, s.status, s.purpose))
        .unwrap_or_else(|| "-".into());
    ctx.out.record(
        &me,
        vec![
            ("server", creds.url().to_owned()),
            ("user", me.user.username.clone()),
            ("role", me.user.role.as_str().to_owned()),
            ("auth_method", me.auth_method.as_str().to_owned()),
            (
                "work_session_required",
                me.work_session_required.to_string(),
            ),
            ("active_work_session", session),
            (
                "selected_work_session",
                selected
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into()),
            ),
            ("mfa_verified_at", super::when(me.mfa_verified_at)),
        ],
    )?;
    Ok(0)
}

/// `POST /api/auth/mfa/verify` with a code from the argument, or asked for.
pub async fn mfa_verify(ctx: &Context, otp: Option<String>) -> Result<i32, CliError> {
    let client = ctx.client()?;
    let otp = match otp {
        Some(otp) => otp,
        None => prompt::secret("One-time code: ")?,
    };
    let verified = client.mfa_verify(otp.trim()).await?;
    ctx.out
        .info("Verified: root operations on this sign-in are open for the MFA timeout.");
    ctx.out.record(
        &verified,
        vec![
            (
                "mfa_verified_at",
                super::when(Some(verified.mfa_verified_at)),
            ),
            (
                "recovery_codes_left",
                verified.recovery_codes_left.to_string(),
            ),
        ],
    )?;
    Ok(0)
}
