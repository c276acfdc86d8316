//! The console's API plumbing: every call to the server goes through the typed client the CLI
//! uses too ([`client`]), one module per concept; this module keeps what they share (the CSRF
//! token, [`ApiError`], query helpers) and the transfers only a browser makes (a download kept
//! as a Blob, the editor's load with its size cut-off, content URLs for uploads with progress).
//!
//! Requests carry the session cookie (same origin) and, for state changes, the CSRF token that
//! sign-in or `whoami` returned. Failures come back as the server's own [`ErrorEnvelope`].

use gatehouse_shared::{ErrorCode, ErrorEnvelope, WorkSessionId};
use gloo_net::http::{Request, Response};
use std::cell::RefCell;

pub mod acl;
pub mod audit;
pub mod auth;
pub mod exec;
pub mod files;
pub mod recordings;
pub mod servers;
pub mod sessions;
pub mod signins;
pub mod tunnels;
pub mod users;
pub mod websh;

// The pages call these as `api::name`, wherever they live now.
pub use acl::{create_token, revoke_token, tokens};
pub use audit::*;
pub use auth::*;
pub use files::*;
pub use gatehouse_client::api::ops::AuditFilter;
pub use gatehouse_client::api::recordings::RecordingFilter;
pub use gatehouse_client::api::sessions::{
    ApprovalFilter, SessionDecision, SessionFilter, SessionStep,
};
pub use recordings::*;
pub use servers::*;
pub use sessions::*;
pub use users::*;
pub use websh::*;

thread_local! {
    /// The CSRF token of the signed-in console; sent on every state-changing request.
    static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Remembers (or forgets) the CSRF token after sign-in, `whoami` or sign-out.
pub fn set_csrf(token: Option<String>) {
    CSRF.with(|slot| *slot.borrow_mut() = token);
}

/// A failed call: the HTTP status (0 when the network failed) and the server's envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub envelope: ErrorEnvelope,
}

impl ApiError {
    fn network(message: impl std::fmt::Display) -> Self {
        Self {
            status: 0,
            envelope: ErrorEnvelope::new(
                ErrorCode::Internal,
                format!("cannot reach the server: {message}"),
            ),
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.envelope.error_code
    }

    /// The message for one form field, when the server named that field.
    pub fn field(&self, name: &str) -> Option<String> {
        self.envelope
            .fields
            .iter()
            .find(|f| f.field == name)
            .map(|f| f.message.clone())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.envelope.message.fmt(f)?;
        if let Some(reason) = &self.envelope.reason {
            write!(f, " ({reason})")?;
        }
        Ok(())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The typed client of the API the CLI also uses, as the console speaks it: the page's own
/// origin, its cookie (sent by the browser) and the CSRF token of this sign-in.
pub fn client() -> Result<gatehouse_client::Client, gatehouse_client::ClientError> {
    client_in(None)
}

/// [`client`], with its gated calls under `session` (`X-Work-Session`) when one is given, else
/// under the sign-in's active session: a page opened inside one session acts in that one.
pub fn client_in(
    session: Option<WorkSessionId>,
) -> Result<gatehouse_client::Client, gatehouse_client::ClientError> {
    gatehouse_client::Client::new(gatehouse_client::ClientConfig {
        csrf_token: csrf_token(),
        work_session: session,
        ..Default::default()
    })
}

/// An id as a page holds it (from its address), or why it is not one of `what`.
pub fn parse_id<T: std::str::FromStr>(
    id: &str,
    what: &str,
) -> Result<T, gatehouse_client::ClientError> {
    id.parse()
        .map_err(|_| gatehouse_client::ClientError::Config(format!("{id:?} is not a {what} id")))
}

impl From<gatehouse_client::ClientError> for ApiError {
    fn from(e: gatehouse_client::ClientError) -> Self {
        match &e {
            gatehouse_client::ClientError::Api(refusal) => ApiError {
                status: refusal.status,
                envelope: serde_json::from_value(refusal.envelope.clone()).unwrap_or_else(|_| {
                    ErrorEnvelope::new(ErrorCode::Internal, refusal.message.clone())
                }),
            },
            gatehouse_client::ClientError::Network(_) => ApiError::network(e),
            // Found in the browser itself: nothing reached the server.
            _ => ApiError::local(e),
        }
    }
}

/// Percent-encodes one query-string value.
pub fn encode(value: &str) -> String {
    String::from(js_sys::encode_uri_component(value))
}

/// Builds `?a=1&b=2` from pairs, skipping empty values.
pub fn query(pairs: &[(&str, String)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Where a file operation runs: the server, the work session it is done under (sent as
/// `X-Work-Session`), and the run-as user (`None`: the agent's default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTarget {
    pub server: String,
    pub session: Option<WorkSessionId>,
    pub user: Option<String>,
}

impl FileTarget {
    /// `/api/files/{server}/{op}?{pairs}&user=`, empty values left out.
    pub fn url(&self, op: &str, pairs: &[(&str, String)]) -> String {
        let mut pairs = pairs.to_vec();
        pairs.push(("user", self.user.clone().unwrap_or_default()));
        format!("/api/files/{}/{op}{}", encode(&self.server), query(&pairs))
    }

    /// The typed client's view of this target (`editor`: the editor's own load, stat or save).
    pub fn typed(&self, editor: bool) -> gatehouse_client::api::files::FileTarget<'_> {
        gatehouse_client::api::files::FileTarget {
            server: &self.server,
            user: self.user.as_deref().filter(|u| !u.is_empty()),
            editor,
        }
    }
}

/// The CSRF token, for requests built outside this module (uploads through `XMLHttpRequest`).
pub fn csrf_token() -> Option<String> {
    CSRF.with(|slot| slot.borrow().clone())
}

/// The error a failed request answered with `status` and `body` (the envelope, if it is one).
pub fn error_from(status: u16, body: &str) -> ApiError {
    if status == 0 {
        return ApiError::network("the connection failed");
    }
    let envelope = serde_json::from_str::<ErrorEnvelope>(body).unwrap_or_else(|_| {
        ErrorEnvelope::new(ErrorCode::Internal, format!("the server answered {status}"))
    });
    ApiError { status, envelope }
}

/// The content URL of `path`; uploads add `overwrite`, the editor `editor=true`.
pub fn files_content_url(target: &FileTarget, path: &str, extra: &[(&str, String)]) -> String {
    let mut pairs = vec![("path", path.to_owned())];
    pairs.extend_from_slice(extra);
    target.url("content", &pairs)
}

/// `GET content` with the work-session header; the response once it is known to be a success.
/// Made here, not by the typed client: the browser keeps the body (a Blob, or bytes read only
/// after the size check), and the editor's load can be aborted.
async fn fetch_content(
    target: &FileTarget,
    path: &str,
    editor: bool,
    abort: Option<&web_sys::AbortSignal>,
) -> ApiResult<Response> {
    let editor = if editor { "true" } else { "" };
    let url = files_content_url(target, path, &[("editor", editor.to_owned())]);
    let mut builder = Request::get(&url).abort_signal(abort);
    if let Some(id) = target.session {
        builder = builder.header("X-Work-Session", &id.to_string());
    }
    let request = builder.build().map_err(ApiError::network)?;
    let response = request.send().await.map_err(ApiError::network)?;
    if response.ok() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    Err(error_from(response.status(), &body))
}

/// A file fetched whole, for downloads: the browser keeps it as a Blob, not in wasm memory.
pub async fn files_blob(target: &FileTarget, path: &str) -> ApiResult<web_sys::Blob> {
    let response = fetch_content(target, path, false, None).await?;
    let promise = web_sys::Response::from(response).blob().map_err(|e| {
        ApiError::network(
            e.as_string()
                .unwrap_or_else(|| "cannot read the file".into()),
        )
    })?;
    let blob = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|_| ApiError::network("the download broke off"))?;
    Ok(wasm_bindgen::JsCast::unchecked_into(blob))
}

/// The state of a file as the server last reported it (at a load or a save): what a save sends
/// back so the server refuses it if the file changed meanwhile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileState {
    /// Seconds since the epoch (`X-File-Mtime`).
    pub mtime: Option<i64>,
    /// The server's version token (`X-File-Version`): also sees a change within the same second.
    pub version: Option<String>,
}

/// What the editor loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRead {
    /// The bytes and the file's state as the server reported it.
    Content { bytes: Vec<u8>, state: FileState },
    /// Larger than the caller's limit (by `Content-Length`); the transfer was cancelled.
    TooLarge(u64),
}

/// Reads a file for the editor, refusing (and cancelling) one over `max_bytes`.
pub async fn files_read(target: &FileTarget, path: &str, max_bytes: u64) -> ApiResult<FileRead> {
    let abort = web_sys::AbortController::new().ok();
    let signal = abort.as_ref().map(|a| a.signal());
    let response = fetch_content(target, path, true, signal.as_ref()).await?;
    let header = |name: &str| response.headers().get(name);
    let size = header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(size) = size.filter(|s| *s > max_bytes) {
        if let Some(abort) = abort {
            abort.abort();
        }
        return Ok(FileRead::TooLarge(size));
    }
    let state = FileState {
        mtime: header("x-file-mtime").and_then(|v| v.trim().parse::<i64>().ok()),
        version: header("x-file-version").filter(|v| !v.is_empty()),
    };
    let bytes = response.binary().await.map_err(ApiError::network)?;
    Ok(FileRead::Content { bytes, state })
}

impl ApiError {
    /// A failure found in the browser itself (nothing reached the server), as an `ApiError` so
    /// it shows like the others.
    pub fn local(message: impl std::fmt::Display) -> Self {
        Self {
            status: 0,
            envelope: ErrorEnvelope::new(ErrorCode::Internal, message.to_string()),
        }
    }
}
