//! The agent's configuration file: where the server is, the agent's credential, and which
//! directories file operations may touch.
//! Written with mode 0600 because it holds the agent secret.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentConfig {
    /// Base URL of the Gatehouse server, e.g. `https://gatehouse.example.com`.
    pub server: String,
    pub server_id: String,
    pub agent_id: String,
    pub agent_secret: String,
    pub name: String,
    /// PEM file of the CA that signed the server certificate (else the system roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
    /// Directories file operations may touch (`--file-root` overrides); none means `/`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_roots: Vec<PathBuf>,
    /// `host:port` targets tunnels may reach (`--tunnel-allow` overrides); none means loopback.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tunnel_allow: Vec<String>,
}

/// Where the config lives when `--config` is not given.
pub fn default_path() -> PathBuf {
    if nix::unistd::geteuid().is_root() {
        PathBuf::from("/etc/gatehouse/agent.json")
    } else {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        home.join(".config/gatehouse/agent.json")
    }
}

pub fn load(path: &Path) -> Result<AgentConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read {}: {e} (run `gatehouse-agent register` first)",
            path.display()
        )
    })?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a valid agent config: {e}", path.display()))
}

/// Writes the config atomically (temp file + rename), readable by the owner only.
pub fn save(path: &Path, config: &AgentConfig) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(config).map_err(|e| e.to_string())?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
