//! Runtime settings of the server that are not stored in the database.

use std::net::IpAddr;
use std::path::PathBuf;

/// Sign-in throttling: at most `max_failures` failures per key inside `window_secs`.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    pub per_account: i64,
    pub per_peer: i64,
    pub window_secs: i64,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_peer: 20,
            window_secs: 15 * 60,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Mark the session cookie `Secure` (true whenever the server speaks TLS).
    pub secure_cookies: bool,
    /// Peers whose `X-Forwarded-For` is believed; everyone else's is ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// How long a browser sign-in lasts.
    pub login_ttl_secs: i64,
    pub throttle: ThrottleLimits,
    /// Largest JSON request body accepted.
    pub max_body_bytes: usize,
    /// The built web console (Trunk's `dist/`), served at `/` with client-side routing fallback.
    pub console_dir: Option<PathBuf>,
    /// Where recordings live (`<data-dir>/recordings`).
    pub data_dir: PathBuf,
    /// Open terminals one user may have at once.
    pub max_terminals_per_user: usize,
    /// Open terminals one agent may carry at once.
    pub max_terminals_per_agent: usize,
    /// The first wait after a wrong link password; it doubles with each one (see
    /// `gatehouse_shared::share::join_backoff_ms`).
    pub share_backoff_base_ms: u64,
    /// How long a file transfer's client may stall (send no upload bytes, or take no download
    /// bytes) before the transfer is cut and its agent worker freed.
    pub file_stall: std::time::Duration,
    /// How often an idle agent link is pinged; a link silent for three of these is dropped.
    pub agent_keepalive: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            login_ttl_secs: 12 * 3600,
            throttle: ThrottleLimits::default(),
            max_body_bytes: 64 * 1024,
            console_dir: None,
            data_dir: PathBuf::from("./gatehouse-data"),
            max_terminals_per_user: 20,
            max_terminals_per_agent: 200,
            share_backoff_base_ms: 1000,
            file_stall: std::time::Duration::from_secs(60),
            agent_keepalive: std::time::Duration::from_secs(
                gatehouse_shared::agent_link::KEEPALIVE_SECS,
            ),
        }
    }
}
