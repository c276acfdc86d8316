//! The browser transport: the page's own `fetch` through gloo-net, as the console uses it. The
//! browser decides which CAs it trusts, and sends its cookie when no bearer credential is given.

use super::{Method, Request, Response};
use crate::error::ClientError;
use gloo_net::http::Request as Fetch;

/// Sends requests to one server (`""`: the page's own origin).
#[derive(Debug, Clone)]
pub struct Transport {
    base: String,
}

impl Transport {
    pub fn new(base: &str, ca_pem: Option<&[u8]>, _user_agent: &str) -> Result<Self, ClientError> {
        if ca_pem.is_some() {
            return Err(ClientError::Config(
                "a browser trusts its own certificate authorities; a CA file cannot be added"
                    .into(),
            ));
        }
        Ok(Transport {
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends `req` and reads the whole answer, whatever its status.
    pub async fn send(&self, req: Request) -> Result<Response, ClientError> {
        let url = format!("{}{}", self.base, req.path);
        let mut builder = match req.method.unwrap_or(Method::Get) {
            Method::Get => Fetch::get(&url),
            Method::Post => Fetch::post(&url),
            Method::Patch => Fetch::patch(&url),
            Method::Put => Fetch::put(&url),
            Method::Delete => Fetch::delete(&url),
        };
        if !req.query.is_empty() {
            builder = builder.query(req.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        for (name, value) in &req.headers {
            builder = builder.header(name, value);
        }
        if req.anonymous {
            builder = builder.credentials(web_sys::RequestCredentials::Omit);
        }
        // Bodies travel as text: JSON, or the editor's (UTF-8) text.
        let request = match req.body {
            Some(body) => builder
                .header(
                    "content-type",
                    req.content_type.unwrap_or("application/json"),
                )
                .body(String::from_utf8_lossy(&body).into_owned()),
            None => builder.build(),
        }
        .map_err(network)?;
        let r = request.send().await.map_err(network)?;
        let status = r.status();
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.trim().parse().ok());
        let body = r.binary().await.map_err(network)?;
        Ok(Response {
            status,
            retry_after,
            body,
        })
    }
}

fn network(e: gloo_net::Error) -> ClientError {
    ClientError::Network(e.to_string())
}
