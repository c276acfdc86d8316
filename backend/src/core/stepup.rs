//! Step-up MFA: how recent a sign-in's proof of a one-time code must be for the operations that
//! need it (resetting someone's password or MFA, making recovery codes), and checking a code
//! presented in place of a password-only sign-in's proof: a TOTP code, or a recovery code that
//! works once.

use super::CoreError;
use crate::auth::{secrets, totp};
use crate::core::audit::{self, SUCCESS};
use crate::core::state::AppState;
use crate::store::users::{self, UserRow};
use crate::store::WriteTx;
use chrono::{DateTime, Utc};
use gatehouse_shared::audit::AuditAction;

/// How long a verified one-time code counts for step-up: the workspace setting
/// `mfa_timeout_secs` (`PATCH /api/settings`, 900 seconds by default).
pub async fn mfa_timeout_secs(state: &AppState) -> Result<i64, CoreError> {
    Ok(crate::store::workspace_settings(&state.db, state.workspace)
        .await?
        .mfa_timeout_secs)
}

/// Why a caller may not do a step-up operation yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepUp {
    /// No TOTP enrolled: nothing to step up with.
    EnrolmentRequired,
    /// Enrolled, but this sign-in has not proved a code within the timeout.
    VerifyRequired,
}

/// Whether a sign-in of `user` that last proved a code at `verified_at` may do a step-up
/// operation at `now`.
pub async fn check(
    state: &AppState,
    user: &UserRow,
    verified_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Result<(), StepUp>, CoreError> {
    if user.totp_secret.is_none() {
        return Ok(Err(StepUp::EnrolmentRequired));
    }
    let timeout = mfa_timeout_secs(state).await?;
    let fresh = verified_at.is_some_and(|at| at <= now && (now - at).num_seconds() <= timeout);
    Ok(if fresh {
        Ok(())
    } else {
        Err(StepUp::VerifyRequired)
    })
}

/// Which kind of code was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Totp,
    Recovery,
}

/// How many recovery codes a set holds.
pub const RECOVERY_CODES: usize = 10;

/// Characters of a recovery code before grouping: 16 from a 56-symbol alphabet, about 93 bits,
/// so a fast hash of it is safe to store.
const RECOVERY_CODE_LEN: usize = 16;

/// A recovery code as typed: dashes and spaces are grouping only.
fn normalise(code: &str) -> String {
    code.chars().filter(|c| !matches!(c, '-' | ' ')).collect()
}

/// The stored hash of a recovery code; salted with the person's id so equal codes of two
/// people never share a hash.
pub fn recovery_code_hash(user: &UserRow, code: &str) -> String {
    secrets::sha256_hex(&format!("{}:{}", user.id, normalise(code)))
}

/// A fresh set of recovery codes, grouped by four for reading.
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw = secrets::random_password(RECOVERY_CODE_LEN);
            let groups: Vec<String> = raw
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            groups.join("-")
        })
        .collect()
}

/// Checks `code` for `user`: a TOTP code (its time step spent against replay) or an unused
/// recovery code (spent, audited, in one write). `None` when it is neither; the caller audits
/// the failure in its own words. The code itself is never logged or audited.
pub async fn accept_code(
    state: &AppState,
    user: &UserRow,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<CodeKind>, CoreError> {
    let Some(secret) = &user.totp_secret else {
        return Ok(None);
    };
    let code = code.trim();
    if code.len() <= 8 && code.chars().all(|c| c.is_ascii_digit()) {
        let accepted = match totp::matching_step(secret, code, now) {
            Some(step) => {
                users::consume_totp_step(&state.db, state.workspace, user.user_id()?, step).await?
            }
            None => false,
        };
        return Ok(accepted.then_some(CodeKind::Totp));
    }
    if code.len() > 64 {
        return Ok(None);
    }
    let hash = recovery_code_hash(user, code);
    let mut tx = WriteTx::begin(&state.db, state.workspace, now).await?;
    if !users::spend_recovery_code(&mut tx, user.user_id()?, &hash).await? {
        return Ok(None);
    }
    tx.commit(
        audit::event(AuditAction::AuthRecoveryCodeUsed, SUCCESS)
            .actor(&user.username)
            .target(&user.username),
    )
    .await?;
    Ok(Some(CodeKind::Recovery))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_ten_distinct_grouped_codes() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for code in &codes {
            assert_eq!(code.len(), RECOVERY_CODE_LEN + 3, "{code}");
            assert_eq!(normalise(code).len(), RECOVERY_CODE_LEN);
        }
        assert_eq!(normalise("abcd-efgh ijkl"), "abcdefghijkl");
    }
}
