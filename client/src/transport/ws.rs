//! WebSocket streams (websh, streamed exec) to the same server, with the same bearer and the same
//! trust as the HTTP transport: the system's web roots, plus the server's own CA file when given.

use crate::error::ClientError;
use gatehouse_shared::agent_link::WS_READ_BUFFER_BYTES;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// An open WebSocket to the server.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The `ws://`/`wss://` URL of `path` on the server at `base` (`http://`/`https://`).
pub fn ws_url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let base = match base.split_once("://") {
        Some(("https", rest)) => format!("wss://{rest}"),
        Some(("http", rest)) => format!("ws://{rest}"),
        _ => base.to_owned(),
    };
    format!("{base}{path}")
}

/// The TLS trust for `wss://`: the web roots, plus the certificates of `ca_pem`.
pub fn tls_config(ca_pem: Option<&[u8]>) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = ca_pem {
        let mut reader = std::io::BufReader::new(pem);
        for cert in rustls_pemfile::certs(&mut reader) {
            let cert =
                cert.map_err(|e| ClientError::Config(format!("the CA file is not PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| ClientError::Config(format!("unusable CA certificate: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Opens `url` with `Authorization: Bearer <credential>`. A refusal before the upgrade (401,
/// 403, 404) comes back as [`ClientError::Api`] with its status and envelope.
pub async fn connect(
    url: &str,
    credential: Option<&str>,
    tls: Arc<rustls::ClientConfig>,
) -> Result<Socket, ClientError> {
    let mut request = url
        .into_client_request()
        .map_err(|e| ClientError::Config(format!("bad WebSocket URL {url}: {e}")))?;
    if let Some(secret) = credential {
        let value = HeaderValue::from_str(&format!("Bearer {secret}"))
            .map_err(|_| ClientError::Config("the credential is not a valid header".into()))?;
        request.headers_mut().insert("authorization", value);
    }
    let config = WebSocketConfig::default().read_buffer_size(WS_READ_BUFFER_BYTES);
    match tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(config),
        true,
        Some(Connector::Rustls(tls)),
    )
    .await
    {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response.body().clone().unwrap_or_default();
            Err(ClientError::Api(Box::new(crate::ApiError::from_response(
                status, None, &body,
            ))))
        }
        Err(e) => Err(ClientError::Network(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_urls_follow_the_server_scheme() {
        assert_eq!(
            ws_url("https://g.example/", "/ws/websh/1"),
            "wss://g.example/ws/websh/1"
        );
        assert_eq!(
            ws_url("http://127.0.0.1:9", "/ws/exec/2?resume_from=5"),
            "ws://127.0.0.1:9/ws/exec/2?resume_from=5"
        );
    }
}
