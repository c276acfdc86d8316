//! `gatehouse-agent register`: trades a one-time registration token for the agent credential.

use crate::config::{self, AgentConfig};
use crate::tls;
use gatehouse_shared::server::{AgentCredential, AgentRegistration};
use gatehouse_shared::ErrorEnvelope;
use std::path::{Path, PathBuf};

pub struct RegisterArgs<'a> {
    pub server: &'a str,
    pub token: &'a str,
    pub name: Option<String>,
    pub ca: Option<PathBuf>,
    pub config: &'a Path,
}

/// Registers and writes the config file.
pub async fn register(args: RegisterArgs<'_>) -> Result<AgentConfig, String> {
    let path = args.config.to_owned();
    let config = obtain(args).await?;
    config::save(&path, &config)?;
    Ok(config)
}

/// Registers and returns the credential without writing anything.
pub async fn obtain(args: RegisterArgs<'_>) -> Result<AgentConfig, String> {
    tls::check_server_url(args.server)?;
    let hostname = crate::host::hostname();
    let name = args.name.unwrap_or_else(|| hostname.clone());
    let mut client = reqwest::Client::builder().use_rustls_tls();
    if let Some(ca) = &args.ca {
        let pem = std::fs::read(ca).map_err(|e| format!("cannot read CA {}: {e}", ca.display()))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| format!("bad CA {}: {e}", ca.display()))?;
        client = client
            .add_root_certificate(cert)
            .tls_built_in_root_certs(false);
    }
    let client = client.build().map_err(|e| e.to_string())?;
    let body = AgentRegistration {
        registration_token: args.token.to_owned(),
        name: name.clone(),
        os: std::env::consts::OS.to_owned(),
        platform: std::env::consts::ARCH.to_owned(),
        hostname,
    };
    let url = format!("{}/api/agents/register", args.server.trim_end_matches('/'));
    let response = client
        .post(&url)
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    if !response.status().is_success() {
        let status = response.status();
        return Err(match response.json::<ErrorEnvelope>().await {
            Ok(envelope) => format!("registration refused ({status}): {}", envelope.message),
            Err(_) => format!("registration refused ({status})"),
        });
    }
    let credential: AgentCredential = response
        .json()
        .await
        .map_err(|e| format!("unexpected registration answer: {e}"))?;
    let config = AgentConfig {
        server: args.server.trim_end_matches('/').to_owned(),
        server_id: credential.server_id.to_string(),
        agent_id: credential.agent_id.to_string(),
        agent_secret: credential.agent_secret,
        name,
        ca: args.ca,
        file_roots: Vec::new(),
        tunnel_allow: Vec::new(),
    };
    Ok(config)
}
