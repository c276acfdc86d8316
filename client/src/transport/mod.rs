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
    Put,
    Delete,
}

/// One request, relative to the server's base URL.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: Option<Method>,
    /// The path, such as `/api/work-sessions`.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// A body: JSON unless `content_type` says otherwise.
    pub body: Option<Vec<u8>>,
    /// The body's type when it is not JSON (the editor's text is `application/octet-stream`).
    pub content_type: Option<&'static str>,
    /// Extra headers (`X-Work-Session`, `Accept`).
    pub headers: Vec<(&'static str, String)>,
    /// Sent as no one: no credential header, and in a browser not even its cookie.
    pub anonymous: bool,
}

impl Request {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Request {
            method: Some(method),
            path: path.into(),
            ..Request::default()
        }
    }

    /// Makes this request anonymous: the flag for the browser, and no credential header.
    pub fn without_credentials(&mut self) {
        self.anonymous = true;
        self.headers
            .retain(|(name, _)| !matches!(*name, "authorization" | "x-csrf-token" | "cookie"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anonymous_request_drops_its_credentials_only() {
        let mut req = Request::new(Method::Post, "/api/share/join");
        req.headers = vec![
            ("authorization", "Bearer ghs_x".to_owned()),
            ("x-csrf-token", "t".to_owned()),
            ("cookie", "gh_session=s".to_owned()),
            ("x-work-session", "w".to_owned()),
        ];
        req.without_credentials();
        assert!(req.anonymous);
        assert_eq!(req.headers, vec![("x-work-session", "w".to_owned())]);
    }
}
