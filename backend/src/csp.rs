//! The console's Content-Security-Policy: scripts only from this origin plus the exact inline
//! scripts Trunk wrote into `index.html` (pinned by hash), so injected markup cannot run code.

use axum::http::HeaderValue;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Hashes (`'sha256-…'`) of every inline `<script>` in `html`; scripts with `src` are skipped.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after_tag = &rest[start..];
        let Some(tag_end) = after_tag.find('>') else {
            break;
        };
        let tag = &after_tag[..tag_end];
        let body = &after_tag[tag_end + 1..];
        let Some(close) = body.find("</script>") else {
            break;
        };
        if !tag.contains(" src=") {
            let digest = Sha256::digest(&body.as_bytes()[..close]);
            hashes.push(format!(
                "'sha256-{}'",
                data_encoding::BASE64.encode(&digest)
            ));
        }
        rest = &body[close..];
    }
    hashes
}

/// The policy for a console whose `index.html` is in `console_dir`.
pub fn policy(console_dir: &Path) -> String {
    let html = std::fs::read_to_string(console_dir.join("index.html")).unwrap_or_default();
    let scripts = inline_script_hashes(&html).join(" ");
    // 'wasm-unsafe-eval' lets the page compile its own WebAssembly, nothing more; xterm.js and
    // the console set inline styles, which cannot run code.
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {scripts}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
}

/// The last policy computed and the `index.html` modification time it was computed for.
type Cached = Option<(Option<SystemTime>, HeaderValue)>;

/// The policy header, recomputed whenever `index.html` changes on disk (a rebuilt console has new
/// inline scripts; a stale hash would leave the browser with a blank page until a restart).
#[derive(Clone)]
pub struct ConsolePolicy {
    dir: PathBuf,
    cache: Arc<Mutex<Cached>>,
}

impl ConsolePolicy {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
            cache: Arc::new(Mutex::new(None)),
        }
    }

    /// The current header value.
    pub fn header(&self) -> HeaderValue {
        let modified = std::fs::metadata(self.dir.join("index.html"))
            .and_then(|m| m.modified())
            .ok();
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((at, value)) = cache.as_ref() {
            if *at == modified {
                return value.clone();
            }
        }
        let value = HeaderValue::from_str(&policy(&self.dir))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
        *cache = Some((modified, value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_inline_scripts_only() {
        let html = r#"<head><script type="importmap">{"imports":{}}</script>
            <script src="/x.js"></script><script type="module">import init from '/a.js';</script>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 2);
        let expected = data_encoding::BASE64.encode(&Sha256::digest(br#"{"imports":{}}"#));
        assert_eq!(hashes[0], format!("'sha256-{expected}'"));
    }

    #[test]
    fn policy_follows_a_rebuilt_console() {
        let dir = std::env::temp_dir().join(format!("gatehouse-csp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let index = dir.join("index.html");
        std::fs::write(&index, "<script>one()</script>").unwrap();
        let policy = ConsolePolicy::new(&dir);
        let first = policy.header();
        std::fs::write(&index, "<script>two()</script>").unwrap();
        // Make the change visible even on file systems with coarse timestamps.
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&index)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_ne!(policy.header(), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn no_scripts_no_hashes() {
        assert!(inline_script_hashes("<html><body></body></html>").is_empty());
        assert!(inline_script_hashes("<script>unterminated").is_empty());
    }
}
