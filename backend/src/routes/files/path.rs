//! Paths as the gateway accepts them, and the download's file name header.
//!
//! The agent resolves every path itself beneath its allowed roots and never follows a symlink
//! out of them; this is the first line, so an obviously hostile path is refused with a 400
//! before anything reaches an agent, and the audit log only ever shows plain absolute paths.

use crate::error::{ApiError, ApiResult};
use axum::http::HeaderValue;

/// The longest path accepted (Linux's `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;

/// `value` as an acceptable path for `field`, or a `validation_error` naming the field.
pub fn checked(field: &str, value: Option<String>) -> ApiResult<String> {
    let path = value.unwrap_or_default();
    match problem(&path) {
        None => Ok(path),
        Some(why) => Err(ApiError::validation(field, why)),
    }
}

/// What is wrong with `path`, if anything.
fn problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("a path is required");
    }
    if path.len() > MAX_PATH_BYTES {
        return Some("the path is longer than 4096 bytes");
    }
    if path.contains('\0') {
        return Some("the path contains a NUL byte");
    }
    if path.chars().any(char::is_control) {
        return Some("the path contains control characters");
    }
    if !path.starts_with('/') {
        return Some("the path must be absolute (start with /)");
    }
    if path.split('/').any(|segment| segment == "..") {
        return Some("the path may not contain .. segments");
    }
    if has_encoded_escape(path) {
        // The query was decoded once already; what is still percent-encoded was encoded twice,
        // which only a confused or probing client does.
        return Some(
            "the path contains a percent-encoded dot, slash, percent or control character",
        );
    }
    None
}

/// True when `path` holds `%XX` decoding to a byte that could change how it is split or read.
fn has_encoded_escape(path: &str) -> bool {
    path.as_bytes().windows(3).any(|w| {
        if w[0] != b'%' {
            return false;
        }
        let hex = |b: u8| (b as char).to_digit(16);
        match (hex(w[1]), hex(w[2])) {
            (Some(hi), Some(lo)) => {
                let byte = (hi * 16 + lo) as u8;
                matches!(byte, b'.' | b'/' | b'\\' | b'%') || byte < 0x20 || byte == 0x7f
            }
            _ => false,
        }
    })
}

/// The last segment of `path` (the name a download is saved under).
pub fn file_name(path: &str) -> &str {
    path.rsplit('/')
        .find(|segment| !segment.is_empty())
        .unwrap_or("download")
}

/// `Content-Disposition: attachment` naming `name` (RFC 6266): a plain ASCII fallback for old
/// clients, and the exact name as RFC 8187 `filename*`.
pub fn content_disposition(name: &str) -> HeaderValue {
    let fallback: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && !matches!(c, '"' | '\\' | '%') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        // RFC 8187 attr-char: everything else is percent-encoded.
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_absolute_paths_pass() {
        for path in [
            "/",
            "/etc/hosts",
            "/srv/data/report 2024.pdf",
            "/srv/a%20b",
            "/srv/.hidden/..x/x..",
            "/srv/dir/",
            "/srv/ünïcode",
        ] {
            assert_eq!(problem(path), None, "{path}");
        }
    }

    #[test]
    fn traversal_and_odd_bytes_are_refused() {
        for path in [
            "",
            "relative/path",
            "./x",
            "/srv/../etc/passwd",
            "/srv/..",
            "/..",
            "/srv/%2e%2e/etc",
            "/srv/%2E%2E%2Fetc",
            "/srv/%252e%252e%252fetc",
            "/srv/a%00b",
            "/srv/a\0b",
            "/srv/a\nb",
            "/srv/a\u{7f}b",
            "/srv/a%0ab",
        ] {
            assert!(problem(path).is_some(), "{path:?} passed");
        }
        assert!(problem(&format!("/{}", "a".repeat(MAX_PATH_BYTES))).is_some());
    }

    #[test]
    fn checked_names_the_field() {
        let err = checked("to", Some("x".into())).unwrap_err();
        assert_eq!(err.0.fields[0].field, "to");
        assert_eq!(checked("path", Some("/ok".into())).unwrap(), "/ok");
    }

    #[test]
    fn download_names_are_encoded_for_every_client() {
        assert_eq!(file_name("/srv/a/report.pdf"), "report.pdf");
        assert_eq!(file_name("/srv/a/"), "a");
        assert_eq!(file_name("/"), "download");
        assert_eq!(
            content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            content_disposition("na\"me ü.txt"),
            "attachment; filename=\"na_me _.txt\"; filename*=UTF-8''na%22me%20%C3%BC.txt"
        );
    }
}
