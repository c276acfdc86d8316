//! [`Client`]: one method per endpoint, typed over the `gatehouse-shared` models. This module
//! holds the plumbing (auth headers, the error envelope, JSON); the endpoints are grouped by
//! concept in its submodules.

mod auth;
pub mod files;
pub mod ops;
pub mod recordings;
pub mod sessions;
mod settings;
mod tokens;
mod tunnels;
mod users;
mod websh;

use crate::error::{ApiError, ClientError};
use crate::transport::{Method, Request, Response, Transport};
use gatehouse_shared::approval::PendingApproval;
use gatehouse_shared::WorkSessionId;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What a client needs to know to talk to one server. Its `Debug` never shows the credential.
#[derive(Clone, Default)]
pub struct ClientConfig {
    /// The server's base URL, such as `https://gate.example.com`.
    pub base_url: String,
    /// A bearer secret: an API token (`gh_`, `ghst_`) or a CLI sign-in (`ghs_`).
    pub credential: Option<String>,
    /// The work session gated calls use (`X-Work-Session`); else the sign-in's active one.
    pub work_session: Option<WorkSessionId>,
    /// A PEM CA file's contents to trust besides the usual roots (a self-signed server).
    pub ca_pem: Option<Vec<u8>>,
    /// Sent as `User-Agent`.
    pub user_agent: String,
    /// A browser sign-in's CSRF token, sent as `X-CSRF-Token` on every state-changing request
    /// (the console: its cookie travels by itself, the token must be shown).
    pub csrf_token: Option<String>,
    /// A browser sign-in's cookie (`name=value`), for a native program acting as that sign-in
    /// (the end-to-end tests speak as the console does). Ignored in a browser, where the cookie
    /// travels by itself and a page may not set the header.
    pub cookie: Option<String>,
}

/// An answer that may instead be a request waiting for a human (`202 pending_approval`).
#[derive(Debug, Clone)]
pub enum Accepted<T> {
    Done(T),
    Pending(PendingApproval),
}

/// A client of one server as one principal. Its `Debug` never shows the credential.
#[derive(Clone)]
pub struct Client {
    transport: Transport,
    credential: Option<String>,
    work_session: Option<WorkSessionId>,
    csrf_token: Option<String>,
    cookie: Option<String>,
}

/// Stands in for a secret wherever a value is debug-printed.
fn redacted(secret: &Option<String>) -> &'static str {
    if secret.is_some() {
        "<redacted>"
    } else {
        "<none>"
    }
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("credential", &redacted(&self.credential))
            .field("work_session", &self.work_session)
            .field("ca_pem", &self.ca_pem.as_ref().map(Vec::len))
            .field("user_agent", &self.user_agent)
            .field("csrf_token", &redacted(&self.csrf_token))
            .field("cookie", &redacted(&self.cookie))
            .finish()
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.transport.base())
            .field("credential", &redacted(&self.credential))
            .field("work_session", &self.work_session)
            .finish()
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let agent = if config.user_agent.is_empty() {
            concat!("gatehouse-client/", env!("CARGO_PKG_VERSION")).to_owned()
        } else {
            config.user_agent
        };
        Ok(Client {
            transport: Transport::new(&config.base_url, config.ca_pem.as_deref(), &agent)?,
            credential: config.credential,
            work_session: config.work_session,
            csrf_token: config.csrf_token,
            cookie: config.cookie,
        })
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        self.transport.base()
    }

    /// Opens the WebSocket at `path` (a `ws_path` the API answered) with this client's
    /// credential.
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn websocket(&self, path: &str) -> Result<crate::transport::ws::Socket, ClientError> {
        self.transport
            .websocket(path, self.credential.as_deref())
            .await
    }

    /// The same principal naming work session `id` on gated calls (`X-Work-Session`) instead
    /// of the sign-in's active one.
    pub fn in_work_session(&self, id: WorkSessionId) -> Client {
        Client {
            work_session: Some(id),
            ..self.clone()
        }
    }

    /// The work session gated calls name, if any.
    pub fn selected_work_session(&self) -> Option<WorkSessionId> {
        self.work_session
    }

    fn request(&self, method: Method, path: &str) -> Request {
        let mut req = Request::new(method, path);
        if let Some(secret) = &self.credential {
            req.headers
                .push(("authorization", format!("Bearer {secret}")));
        }
        if let Some(cookie) = self
            .cookie
            .as_ref()
            .filter(|_| cfg!(not(target_arch = "wasm32")))
        {
            req.headers.push(("cookie", cookie.clone()));
        }
        if let Some(ws) = self.work_session {
            req.headers.push(("x-work-session", ws.to_string()));
        }
        if let Some(token) = self.csrf_token.as_ref().filter(|_| method != Method::Get) {
            req.headers.push(("x-csrf-token", token.clone()));
        }
        req
    }

    async fn send(&self, req: Request) -> Result<Response, ClientError> {
        let r = self.transport.send(req).await?;
        if (200..300).contains(&r.status) {
            Ok(r)
        } else {
            Err(ClientError::Api(Box::new(ApiError::from_response(
                r.status,
                r.retry_after,
                &r.body,
            ))))
        }
    }

    async fn call<T: DeserializeOwned>(&self, req: Request) -> Result<T, ClientError> {
        decode(&self.send(req).await?.body)
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: Vec<(String, String)>,
    ) -> Result<T, ClientError> {
        let mut req = self.request(Method::Get, path);
        req.query = query;
        self.call(req).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.call(self.with_body(Method::Post, path, body)?).await
    }

    /// A POST that may answer `202 pending_approval` instead of its result.
    async fn post_accepted<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        query: Vec<(String, String)>,
        body: &B,
    ) -> Result<Accepted<T>, ClientError> {
        let mut req = self.with_body(Method::Post, path, body)?;
        req.query = query;
        let r = self.send(req).await?;
        if r.status == 202 {
            let value: serde_json::Value = decode(&r.body)?;
            if value.get("status").and_then(|s| s.as_str()) == Some("pending_approval") {
                return Ok(Accepted::Pending(decode(&r.body)?));
            }
        }
        Ok(Accepted::Done(decode(&r.body)?))
    }

    /// A call whose answer carries nothing to read (204).
    async fn post_empty<B: Serialize>(&self, path: &str, body: &B) -> Result<(), ClientError> {
        self.send(self.with_body(Method::Post, path, body)?)
            .await
            .map(drop)
    }

    async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.call(self.with_body(Method::Patch, path, body)?).await
    }

    async fn delete(&self, path: &str) -> Result<(), ClientError> {
        self.send(self.request(Method::Delete, path))
            .await
            .map(drop)
    }

    fn with_body<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<Request, ClientError> {
        let mut req = self.request(method, path);
        req.body = Some(serde_json::to_vec(body).map_err(|e| ClientError::Decode(e.to_string()))?);
        Ok(req)
    }
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ClientError> {
    serde_json::from_slice(body).map_err(|e| ClientError::Decode(e.to_string()))
}

/// Query pairs from a filter: its fields (optional strings and numbers) under their own names,
/// absent ones left out. One place, so each filter is only its list of fields.
fn filter_query<F: Serialize>(filter: &F) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(filter) else {
        return Vec::new();
    };
    fields
        .into_iter()
        .filter_map(|(name, value)| match value {
            serde_json::Value::Null => None,
            serde_json::Value::String(text) => Some((name, text)),
            other => Some((name, other.to_string())),
        })
        .collect()
}

/// Query pairs from optional values: absent ones are left out.
fn query(pairs: &[(&str, Option<String>)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| ((*k).to_owned(), v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_credential() {
        let config = ClientConfig {
            base_url: "https://gate.example.com".into(),
            credential: Some("ghs_very-secret".into()),
            cookie: Some("gh_session=very-secret".into()),
            ..ClientConfig::default()
        };
        let client = Client::new(config.clone()).unwrap();
        for text in [format!("{config:?}"), format!("{client:?}")] {
            assert!(!text.contains("very-secret"), "{text}");
            assert!(text.contains("<redacted>"), "{text}");
        }
    }

    #[test]
    fn the_csrf_token_goes_on_state_changes_and_the_work_session_on_every_call() {
        let session = WorkSessionId(uuid::Uuid::nil());
        let client = Client::new(ClientConfig {
            base_url: "https://gate.example.com".into(),
            csrf_token: Some("t1".into()),
            work_session: Some(session),
            ..ClientConfig::default()
        })
        .unwrap();
        let names = |method| -> Vec<&'static str> {
            let req = client.request(method, "/api/x");
            req.headers.iter().map(|(name, _)| *name).collect()
        };
        assert_eq!(names(Method::Get), vec!["x-work-session"]);
        for method in [Method::Post, Method::Put, Method::Patch, Method::Delete] {
            assert_eq!(names(method), vec!["x-work-session", "x-csrf-token"]);
        }
        let get = client.request(Method::Get, "/api/x");
        assert_eq!(get.headers[0].1, session.to_string());
    }

    #[test]
    fn a_filter_becomes_the_pairs_it_sets() {
        #[derive(Serialize)]
        struct Filter {
            status: Option<String>,
            user: Option<String>,
            limit: Option<u32>,
        }
        let f = Filter {
            status: Some("approved,rejected".into()),
            user: None,
            limit: Some(500),
        };
        let mut pairs = filter_query(&f);
        pairs.sort();
        assert_eq!(
            pairs,
            vec![
                ("limit".to_owned(), "500".to_owned()),
                ("status".to_owned(), "approved,rejected".to_owned()),
            ]
        );
    }

    #[test]
    fn a_url_without_a_scheme_is_refused() {
        let e = Client::new(ClientConfig {
            base_url: "gate.example.com".into(),
            ..ClientConfig::default()
        })
        .unwrap_err();
        assert!(matches!(e, ClientError::Config(_)), "{e}");
    }
}
