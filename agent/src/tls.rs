//! Which server URLs the agent accepts, and the TLS trust it uses for them.

use std::path::Path;
use std::sync::Arc;

/// Plain `http`/`ws` is allowed only to a loopback host; everything else must be TLS.
pub fn check_server_url(server: &str) -> Result<(), String> {
    let (scheme, rest) = server
        .split_once("://")
        .ok_or_else(|| format!("{server} is not a URL (expected https://host[:port])"))?;
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.split_once(']').map(|(h, _)| h))
        .unwrap_or_else(|| host.rsplit_once(':').map_or(host, |(h, _)| h));
    match scheme {
        "https" => Ok(()),
        "http" if is_loopback(host) => Ok(()),
        "http" => Err(format!(
            "refusing plain http to {host}: only loopback servers may be reached without TLS"
        )),
        other => Err(format!("unsupported scheme {other}; use https")),
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The WebSocket URL of the agent link for a server base URL.
pub fn link_url(server: &str) -> String {
    let base = server.trim_end_matches('/');
    let base = base
        .strip_prefix("https://")
        .map(|r| format!("wss://{r}"))
        .or_else(|| base.strip_prefix("http://").map(|r| format!("ws://{r}")))
        .unwrap_or_else(|| base.to_owned());
    format!("{base}/ws/agent")
}

/// Trust anchors: the CA in `ca` if given, else the bundled web PKI roots.
pub fn client_config(ca: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read CA {}: {e}", path.display()))?;
            let mut reader = std::io::BufReader::new(pem.as_slice());
            for cert in rustls_pemfile::certs(&mut reader) {
                let cert =
                    cert.map_err(|e| format!("bad certificate in {}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("unusable certificate in {}: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("no certificates in {}", path.display()));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_server_url("http://127.0.0.1:8080").is_ok());
        assert!(check_server_url("http://localhost:8080/").is_ok());
        assert!(check_server_url("http://[::1]:8080").is_ok());
        assert!(check_server_url("https://gate.example.com").is_ok());
        assert!(check_server_url("http://10.0.0.5:8080").is_err());
        assert!(check_server_url("http://gate.example.com").is_err());
        assert!(check_server_url("ftp://x").is_err());
        assert_eq!(link_url("https://g.example/"), "wss://g.example/ws/agent");
        assert_eq!(link_url("http://127.0.0.1:9"), "ws://127.0.0.1:9/ws/agent");
    }
}
