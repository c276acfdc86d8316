//! Loading a file for the editor: only text, and only up to [`MAX_BYTES`]. The size is checked
//! with a stat before a byte moves (and again by `Content-Length`, in case the gate refuses the
//! stat); binary content (a NUL byte, or not UTF-8) is refused after loading, since nothing
//! cheaper can tell.

use crate::api::{self, ApiError, FileRead, FileState, FileTarget};
use crate::pages::files::paths::human_size;
use gatehouse_shared::files::FileKind;

/// The largest file the editor opens.
pub const MAX_BYTES: u64 = 5 * 1024 * 1024;

/// Why a file was not opened.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The server said no (not found, permission denied, the gate).
    Api(ApiError),
    /// The editor said no (too large, binary, a folder).
    Text(String),
}

/// A file's text and its state as the server reported it.
pub struct Loaded {
    pub text: String,
    pub state: FileState,
}

pub fn too_large(size: u64) -> String {
    format!(
        "This file is {}; the editor opens files up to {}. Download it instead.",
        human_size(size),
        human_size(MAX_BYTES)
    )
}

/// The bytes as text, or why they are not text the editor should touch.
pub fn decode(bytes: Vec<u8>) -> Result<String, String> {
    const BINARY: &str = "This looks like a binary file (it is not UTF-8 text); the editor \
                          opens text only. Download it instead.";
    if bytes.contains(&0) {
        return Err(BINARY.to_owned());
    }
    String::from_utf8(bytes).map_err(|_| BINARY.to_owned())
}

/// Stats, then reads `path` for the editor.
pub async fn fetch(target: &FileTarget, path: &str) -> Result<Loaded, Refusal> {
    match api::files_stat(target, path, true).await {
        Ok(entry) => match entry.kind {
            FileKind::Dir => return Err(Refusal::Text("This is a folder, not a file.".into())),
            FileKind::Other => {
                return Err(Refusal::Text(
                    "This is not a regular file (a device, pipe or socket).".into(),
                ))
            }
            _ if entry.size > MAX_BYTES => return Err(Refusal::Text(too_large(entry.size))),
            _ => {}
        },
        // The gate may allow the editor but not WebFTP's stat: Content-Length still guards.
        Err(e) if e.status == 403 => {}
        Err(e) => return Err(Refusal::Api(e)),
    }
    match api::files_read(target, path, MAX_BYTES).await {
        Ok(FileRead::TooLarge(size)) => Err(Refusal::Text(too_large(size))),
        Ok(FileRead::Content { bytes, state }) => decode(bytes)
            .map(|text| Loaded { text, state })
            .map_err(Refusal::Text),
        Err(e) => Err(Refusal::Api(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_only() {
        assert_eq!(decode(b"hello\n".to_vec()).as_deref(), Ok("hello\n"));
        assert_eq!(decode("grüße".as_bytes().to_vec()).as_deref(), Ok("grüße"));
        assert!(decode(b"a\0b".to_vec()).is_err());
        assert!(decode(vec![0xff, 0xfe, 0x41]).is_err());
    }

    #[test]
    fn says_how_large() {
        assert!(too_large(6 * 1024 * 1024).contains("6.0 MiB"));
        assert!(too_large(6 * 1024 * 1024).contains("5.0 MiB"));
    }
}
