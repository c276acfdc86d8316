//! The native transport: reqwest with rustls, trusting the system's web roots plus, when given,
//! the server's own CA file (a self-signed gateway, like the agent's `--ca`).

use super::{Method, Request, Response, SseParser};
use crate::error::{ApiError, ClientError};
use std::collections::VecDeque;
use std::time::Duration;

/// How long to wait for a connection before saying the server cannot be reached.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends requests to one server.
#[derive(Debug, Clone)]
pub struct Transport {
    http: reqwest::Client,
    base: String,
    /// The CA file's contents, for the WebSocket streams' own TLS set-up.
    ca_pem: Option<Vec<u8>>,
}

impl Transport {
    /// A transport to `base` (such as `https://gate.example.com`), trusting `ca_pem` besides
    /// the usual roots.
    pub fn new(base: &str, ca_pem: Option<&[u8]>, user_agent: &str) -> Result<Self, ClientError> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(ClientError::Config(format!(
                "the server URL must start with https:// or http://, not {base:?}"
            )));
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(user_agent);
        if let Some(pem) = ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| ClientError::Config(format!("the CA file is not PEM: {e}")))?;
            if certs.is_empty() {
                return Err(ClientError::Config(
                    "the CA file holds no certificate".into(),
                ));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Config(format!("cannot set up HTTP: {e}")))?;
        Ok(Transport {
            http,
            base,
            ca_pem: ca_pem.map(<[u8]>::to_vec),
        })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Opens the WebSocket at `path` (such as `/ws/websh/{id}?resume_from=0`) as `credential`.
    pub async fn websocket(
        &self,
        path: &str,
        credential: Option<&str>,
    ) -> Result<super::ws::Socket, ClientError> {
        let tls = super::ws::tls_config(self.ca_pem.as_deref())?;
        super::ws::connect(&super::ws::ws_url(&self.base, path), credential, tls).await
    }

    fn builder(&self, req: &Request) -> reqwest::RequestBuilder {
        let method = match req.method.unwrap_or(Method::Get) {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Patch => reqwest::Method::PATCH,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        self.builder_as(method, req)
    }

    fn builder_as(&self, method: reqwest::Method, req: &Request) -> reqwest::RequestBuilder {
        let mut b = self
            .http
            .request(method, format!("{}{}", self.base, req.path));
        if !req.query.is_empty() {
            b = b.query(&req.query);
        }
        for (name, value) in &req.headers {
            b = b.header(*name, value);
        }
        if let Some(body) = &req.body {
            b = b
                .header(
                    reqwest::header::CONTENT_TYPE,
                    req.content_type.unwrap_or("application/json"),
                )
                .body(body.clone());
        }
        b
    }

    /// Sends `req` and reads the whole answer, whatever its status.
    pub async fn send(&self, req: Request) -> Result<Response, ClientError> {
        let r = self.builder(&req).send().await.map_err(network)?;
        let status = r.status().as_u16();
        let retry_after = retry_after(&r);
        let body = r.bytes().await.map_err(network)?.to_vec();
        Ok(Response {
            status,
            retry_after,
            body,
        })
    }

    /// Sends `req` and hands back the answer unread, to be taken chunk by chunk (a download of
    /// any size in flat memory); a refusal comes back as the envelope.
    pub async fn open(&self, req: Request) -> Result<reqwest::Response, ClientError> {
        let r = self.builder(&req).send().await.map_err(network)?;
        refusal(r).await
    }

    /// Sends `req` as a `PUT` whose body is `body`, streamed as it is produced, and reads the
    /// (small) answer whatever its status.
    pub async fn put_stream(
        &self,
        req: Request,
        body: reqwest::Body,
    ) -> Result<Response, ClientError> {
        let r = self
            .builder_as(reqwest::Method::PUT, &req)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .await
            .map_err(network)?;
        let status = r.status().as_u16();
        let retry_after = retry_after(&r);
        let body = r.bytes().await.map_err(network)?.to_vec();
        Ok(Response {
            status,
            retry_after,
            body,
        })
    }

    /// Opens a server-sent event stream; a refusal comes back as the envelope.
    pub async fn stream(&self, req: Request) -> Result<EventStream, ClientError> {
        let r = self
            .builder(&req)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(network)?;
        Ok(EventStream {
            response: refusal(r).await?,
            parser: SseParser::default(),
            ready: VecDeque::new(),
        })
    }
}

/// Server-sent events as they arrive.
#[derive(Debug)]
pub struct EventStream {
    response: reqwest::Response,
    parser: SseParser,
    ready: VecDeque<String>,
}

impl EventStream {
    /// The next event's name; `None` when the server closed the stream.
    pub async fn next(&mut self) -> Result<Option<String>, ClientError> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Ok(Some(event));
            }
            match self.response.chunk().await.map_err(network)? {
                Some(bytes) => self.ready.extend(self.parser.feed(&bytes)),
                None => return Ok(None),
            }
        }
    }
}

/// `r` when it is a success, else its error envelope.
async fn refusal(r: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    let status = r.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(r);
    }
    let retry = retry_after(&r);
    let body = r.bytes().await.map_err(network)?;
    Err(ClientError::Api(Box::new(ApiError::from_response(
        status, retry, &body,
    ))))
}

fn retry_after(r: &reqwest::Response) -> Option<u64> {
    r.headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub(crate) fn network(e: reqwest::Error) -> ClientError {
    // reqwest's Display stops at the outermost cause; the chain says why (refused, TLS).
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    ClientError::Network(message)
}
