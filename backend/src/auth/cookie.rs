//! The browser session cookie: HttpOnly, SameSite=Strict, Secure under TLS.

use axum::http::{header, HeaderMap, HeaderValue};

pub const COOKIE_NAME: &str = "gatehouse_session";

/// The `Set-Cookie` value for a new sign-in.
pub fn set_cookie(token: &str, max_age_secs: i64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

/// The `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(secure: bool) -> Option<HeaderValue> {
    set_cookie("", 0, secure)
}

/// The session token from the request's `Cookie` headers, if present.
pub fn read(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE_NAME && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}
