//! How requests travel: the one target-specific part of the client. A [`Request`] is plain
//! data; a transport sends it and hands back a [`Response`] (status, `Retry-After`, body), or
//! a stream of server-sent events.

#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(not(target_arch = "wasm32"))]
mod native;
mod sse;
#[cfg(not(target_arch = "wasm32"))]
pub mod ws;

#[cfg(target_arch = "wasm32")]
pub use fetch::Transport;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::network as network_error;
#[cfg(not(target_arch = "wasm32"))]
pub use native::{EventStream, Transport};
pub use sse::SseParser;

/// The HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

/// One request, relative to the server's base URL.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: Option<Method>,
    /// The path, such as `/api/work-sessions`.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// A JSON body.
    pub body: Option<Vec<u8>>,
    /// Extra headers (`X-Work-Session`, `Accept`).
    pub headers: Vec<(&'static str, String)>,
}

impl Request {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Request {
            method: Some(method),
            path: path.into(),
            ..Request::default()
        }
    }
}

/// A whole answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// `Retry-After` in seconds, when the server sent it.
    pub retry_after: Option<u64>,
    pub body: Vec<u8>,
}
