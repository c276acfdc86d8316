//! Where credentials come from: `GATE_URL` + `GATE_TOKEN` (nothing read from or written to
//! disk), else the named profile in the profile file; and which work session gated calls name
//! (`--work-session` > `GATE_WORK_SESSION` > the profile's `use`d one).

use crate::config::{self, ConfigFile, Profile, DEFAULT_PROFILE};
use crate::exit::CliError;
use crate::output::Output;
use gatehouse_client::{Client, ClientConfig};
use gatehouse_shared::WorkSessionId;
use std::path::{Path, PathBuf};

/// Everything a verb needs besides its own arguments.
#[derive(Debug)]
pub struct Context {
    pub out: Output,
    /// `--profile` / `GATE_PROFILE`, else `default`.
    pub profile: String,
    /// `--work-session` / `GATE_WORK_SESSION`.
    pub work_session: Option<WorkSessionId>,
    /// Whether `--work-session` was given on the command line (not by the environment).
    pub work_session_on_command_line: bool,
}

/// Where this run's credentials come from (no `Debug`: it holds the secret).
#[derive(Clone)]
pub enum Credentials {
    /// `GATE_URL` + `GATE_TOKEN` (+ `GATE_CA`): CI, nothing on disk.
    Environment {
        url: String,
        token: String,
        ca: Option<PathBuf>,
    },
    /// A stored profile.
    Profile { path: PathBuf, profile: Profile },
}

impl Credentials {
    pub fn url(&self) -> &str {
        match self {
            Credentials::Environment { url, .. } => url,
            Credentials::Profile { profile, .. } => &profile.url,
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Context {
    pub fn new(
        out: Output,
        profile: Option<String>,
        work_session: Option<WorkSessionId>,
        on_command_line: bool,
    ) -> Self {
        Context {
            out,
            profile: profile.unwrap_or_else(|| DEFAULT_PROFILE.to_owned()),
            work_session,
            work_session_on_command_line: on_command_line,
        }
    }

    /// The profile file's path, or why there is none.
    pub fn config_path(&self) -> Result<PathBuf, CliError> {
        config::path().ok_or_else(|| {
            CliError::usage("neither XDG_CONFIG_HOME nor HOME is set: cannot find the profile file")
        })
    }

    pub fn load_config(&self) -> Result<(PathBuf, ConfigFile), CliError> {
        let path = self.config_path()?;
        let config = ConfigFile::load(&path)?;
        Ok((path, config))
    }

    /// The credentials in force, if any.
    pub fn credentials(&self) -> Result<Option<Credentials>, CliError> {
        match (env("GATE_URL"), env("GATE_TOKEN")) {
            (Some(url), Some(token)) => {
                return Ok(Some(Credentials::Environment {
                    url,
                    token,
                    ca: env("GATE_CA").map(PathBuf::from),
                }))
            }
            (None, Some(_)) => {
                return Err(CliError::usage("GATE_TOKEN is set without GATE_URL"));
            }
            _ => {}
        }
        let (path, config) = self.load_config()?;
        Ok(config
            .profiles
            .get(&self.profile)
            .cloned()
            .map(|profile| Credentials::Profile { path, profile }))
    }

    /// The credentials, or "sign in first".
    pub fn require_credentials(&self) -> Result<Credentials, CliError> {
        self.credentials()?.ok_or_else(|| {
            let mut e = CliError::failed(
                "unauthenticated",
                format!(
                    "not signed in (profile {:?}): run `gate login`, or set GATE_URL and GATE_TOKEN",
                    self.profile
                ),
            );
            e.envelope["next_actions"] = serde_json::json!(["gate login"]);
            e
        })
    }

    /// The work session gated calls name.
    pub fn selected_session(&self, creds: &Credentials) -> Option<WorkSessionId> {
        self.work_session.or(match creds {
            Credentials::Profile { profile, .. } => profile.work_session,
            Credentials::Environment { .. } => None,
        })
    }

    /// A signed-in client.
    pub fn client(&self) -> Result<Client, CliError> {
        let creds = self.require_credentials()?;
        self.client_for(&creds)
    }

    pub fn client_for(&self, creds: &Credentials) -> Result<Client, CliError> {
        let (url, secret, ca) = match creds {
            Credentials::Environment { url, token, ca } => (url, token, ca.as_deref()),
            Credentials::Profile { profile, .. } => {
                (&profile.url, &profile.credential, profile.ca.as_deref())
            }
        };
        build(url, Some(secret.clone()), self.selected_session(creds), ca)
    }
}

/// A client of `url` with `secret` (none: anonymous), trusting the CA file `ca`.
pub fn build(
    url: &str,
    secret: Option<String>,
    work_session: Option<WorkSessionId>,
    ca: Option<&Path>,
) -> Result<Client, CliError> {
    let ca_pem = match ca {
        Some(path) => Some(std::fs::read(path).map_err(|e| {
            CliError::failed(
                "config_error",
                format!("cannot read the CA file {}: {e}", path.display()),
            )
        })?),
        None => None,
    };
    Ok(Client::new(ClientConfig {
        base_url: url.to_owned(),
        credential: secret,
        work_session,
        ca_pem,
        user_agent: concat!("gate/", env!("CARGO_PKG_VERSION")).to_owned(),
        // A bearer is never sent by a browser on its own: no CSRF token.
        csrf_token: None,
        cookie: None,
    })?)
}
