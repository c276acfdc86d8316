//! TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps), accepting one step of clock skew.

use chrono::{DateTime, Utc};
use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

const STEP_SECS: i64 = 30;
const DIGITS: u32 = 6;

/// A new random 160-bit secret, base32 as authenticator apps expect.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    BASE32_NOPAD.encode(&bytes)
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(secret: &str, username: &str) -> String {
    let label: String = username
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!(
        "otpauth://totp/Gatehouse:{label}?secret={secret}&issuer=Gatehouse&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}"
    )
}

/// The time step `at` falls in.
pub fn step_at(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(STEP_SECS)
}

/// The code for `step`, or `None` when the secret is not valid base32.
pub fn code_at_step(secret: &str, step: i64) -> Option<String> {
    let key = BASE32_NOPAD.decode(secret.as_bytes()).ok()?;
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    Some(format!(
        "{:0width$}",
        binary % 10u32.pow(DIGITS),
        width = DIGITS as usize
    ))
}

/// The step whose code equals `code` within ±1 step of `now`; the caller then refuses any step
/// not later than the last one used, so a code works once.
pub fn matching_step(secret: &str, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_at(now);
    (current - 1..=current + 1).find(|step| {
        code_at_step(secret, *step).is_some_and(|c| super::secrets::constant_time_eq(&c, code))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 vectors (8 digits there; the last 6 digits match ours).
    #[test]
    fn rfc6238_vectors() {
        let secret = BASE32_NOPAD.encode(b"12345678901234567890");
        for (t, expected8) in [
            (59i64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            let code = code_at_step(&secret, t / 30).unwrap();
            assert_eq!(code, &expected8[2..], "at t={t}");
        }
    }

    #[test]
    fn skew_of_one_step_is_accepted_and_two_is_not() {
        let secret = new_secret();
        let now = DateTime::from_timestamp(1_800_000_015, 0).unwrap();
        let step = step_at(now);
        for delta in [-1, 0, 1] {
            let code = code_at_step(&secret, step + delta).unwrap();
            assert_eq!(matching_step(&secret, &code, now), Some(step + delta));
        }
        let far = code_at_step(&secret, step + 2).unwrap();
        let collides = (-1..=1).any(|d| code_at_step(&secret, step + d).as_deref() == Some(&far));
        if !collides {
            assert_eq!(matching_step(&secret, &far, now), None);
        }
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }
}
