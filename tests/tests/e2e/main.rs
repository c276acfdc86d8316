//! End-to-end: a real `gatehouse serve`, real `gatehouse-agent` processes with real PTYs, and
//! clients speaking the public protocols, all on loopback.

mod agent_link_rules;
mod agents;
mod cli_cp;
mod cli_edit;
mod cli_exec;
mod cli_login;
mod cli_mcp;
mod cli_play;
mod cli_sessions;
mod cli_signin;
mod cli_tokens;
mod cli_websh;
mod console;
mod console_accounts;
mod console_approvals;
mod console_auth;
mod console_command_approval;
mod console_device;
mod console_exec;
mod console_files;
mod console_flow;
mod console_forms;
mod console_layout;
mod console_people;
mod console_provision;
mod console_recordings;
mod console_sessions;
mod console_share;
mod console_step_up;
mod console_terminals;
mod console_tokens;
mod console_tunnels;
mod disable;
mod elevation;
mod events;
mod exec;
mod exec_stream;
mod files;
mod files_stall;
mod races;
mod restart;
mod revocation;
mod revocation_transfers;
mod runas;
mod secrets;
mod share;
mod share_pacing;
mod tls;
mod token_acl;
mod tunnel;
mod typed_client;
mod websh;

use gatehouse_client::api::sessions::{SessionDecision, SessionStep};
use gatehouse_client::{ApiError, ClientError};
use gatehouse_e2e::{create_user, shell_user, wait_connected, Agent, Api, Server, PASSWORD};
use gatehouse_shared::acl::api::{NewCommandRule, NewServerRule, RuleKind};
use gatehouse_shared::api::CreateUser;
use gatehouse_shared::server::CreateRegistrationToken;
use gatehouse_shared::token::CreateApiToken;
use gatehouse_shared::websh::{OpenWebsh, OpenedWebsh};
use gatehouse_shared::work_session::{CreateWorkSession, WorkSession};
use gatehouse_shared::{Role, TokenId, WorkSessionId};
use tempfile::TempDir;

/// A new API token of the person signed in to `api`: its secret and id.
pub async fn api_token(api: &Api, name: &str) -> (String, TokenId) {
    let created = api
        .client
        .create_token(&CreateApiToken {
            name: name.to_owned(),
            expires_in_days: None,
        })
        .await
        .expect("a new token");
    (created.token, created.id)
}

/// A new API token of `api`'s person allowed `sh …` (as the test shell account) on the servers
/// matching `servers`: its secret.
pub async fn shell_token(api: &Api, name: &str, servers: &str) -> String {
    let (secret, id) = api_token(api, name).await;
    let servers = NewServerRule {
        pattern: servers.to_owned(),
    };
    let commands = NewCommandRule {
        command: "sh *".to_owned(),
        user: shell_user().map(str::to_owned),
    };
    let client = &api.client;
    client
        .grant_rule(id, RuleKind::Servers, &servers)
        .await
        .expect("a server rule");
    client
        .grant_rule(id, RuleKind::Commands, &commands)
        .await
        .expect("a command rule");
    secret
}

/// A member `username` with the test password, their account derived from the username.
pub fn new_member(username: &str) -> CreateUser {
    CreateUser {
        username: username.to_owned(),
        password: PASSWORD.to_owned(),
        role: Role::Member,
        email: None,
        unix_user: None,
    }
}

/// The envelope of a call that must have been refused by the server.
pub fn refused<T: std::fmt::Debug>(answer: Result<T, ClientError>) -> ApiError {
    match answer.expect_err("a refusal") {
        ClientError::Api(envelope) => *envelope,
        other => panic!("no envelope but {other}"),
    }
}

/// A work-session request of `scopes` on `servers` for an hour.
pub fn session_request(scopes: &[&str], servers: &[&str]) -> CreateWorkSession {
    CreateWorkSession {
        purpose: "e2e".to_owned(),
        scopes: scopes.iter().map(|s| s.parse().expect("a scope")).collect(),
        servers: servers.iter().map(|s| (*s).to_owned()).collect(),
        expires_at: None,
        duration_secs: Some(3600),
        starts_at: None,
        assignee: None,
        sudo_commands: Vec::new(),
        tunnel_ports: Vec::new(),
    }
}

/// A ten-minute `websh` session on web-01 for `purpose`.
pub fn websh_session(purpose: &str) -> CreateWorkSession {
    CreateWorkSession {
        purpose: purpose.to_owned(),
        duration_secs: Some(600),
        ..session_request(&["websh"], &["web-01"])
    }
}

/// The terminal request the tests open: 80×24, as the test shell account.
pub fn terminal_request(server: &str) -> OpenWebsh {
    OpenWebsh {
        server: server.to_owned(),
        cols: 80,
        rows: 24,
        user: shell_user().map(str::to_owned),
    }
}

/// A server with a superuser `ops` signed in and registered, connected agents.
pub struct Fixture {
    pub agents: Vec<Agent>,
    pub api: Api,
    pub server: Server,
    pub dir: TempDir,
}

impl Fixture {
    pub async fn start(names: &[&str]) -> Self {
        Self::start_on(names, 0).await
    }

    pub async fn start_on(names: &[&str], port: u16) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        create_user(dir.path(), "ops", "superuser");
        let server = Server::start(dir.path(), port);
        Self::with_server(names, dir, server).await
    }

    /// Like `start`, with extra `serve` flags.
    pub async fn start_with(names: &[&str], extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        create_user(dir.path(), "ops", "superuser");
        let server = Server::start_with(dir.path(), 0, extra);
        Self::with_server(names, dir, server).await
    }

    /// Signs `ops` in on a started server and connects agents named `names`.
    pub async fn with_server(names: &[&str], dir: TempDir, server: Server) -> Self {
        let api = Api::login(&server.base, "ops").await;
        let reg = api
            .client
            .create_registration_token(&CreateRegistrationToken {
                expires_in_secs: None,
                max_uses: Some(names.len().max(1) as i64),
            })
            .await
            .expect("a registration token");
        let agents: Vec<Agent> = names
            .iter()
            .map(|name| Agent::register_and_run(&server.base, &reg.token, name, dir.path()))
            .collect();
        for name in names {
            wait_connected(&api, name, true).await;
        }
        Fixture {
            agents,
            api,
            server,
            dir,
        }
    }

    /// Kills the server as a crash would and starts it again on the same port and data; returns
    /// once `agent` has dialled back in. (The sign-in lives in the database: `api` still works.)
    pub async fn crash_and_restart(self, agent: &str) -> Self {
        let Fixture {
            server,
            api,
            dir,
            agents,
        } = self;
        let port = server.port();
        server.kill();
        let server = Server::start(dir.path(), port);
        wait_connected(&api, agent, true).await;
        Fixture {
            agents,
            api,
            server,
            dir,
        }
    }

    /// An active work session of `ops` (auto-approved: a superuser's own) made the active one.
    pub async fn session(&self, scopes: &[&str], servers: &[&str]) -> WorkSession {
        let ops = &self.api.client;
        let created = ops
            .create_work_session(&session_request(scopes, servers))
            .await
            .expect("a work session");
        ops.transition_work_session(created.id, SessionStep::Use)
            .await
            .expect("the session in use")
    }

    /// Revokes work session `id` as `ops`.
    pub async fn revoke(&self, id: WorkSessionId) {
        self.api
            .client
            .decide_work_session(id, SessionDecision::Revoke, Some("e2e".to_owned()))
            .await
            .expect("revoked");
    }

    /// A member `username` signed in, granted the servers matching `pattern`.
    pub async fn member(&self, username: &str, pattern: &str) -> Api {
        let ops = &self.api.client;
        let user = ops
            .create_user(&new_member(username))
            .await
            .expect("a new member");
        ops.grant_user_servers(user.id, pattern)
            .await
            .expect("servers granted");
        Api::login(&self.server.base, username).await
    }

    /// Tries to open a terminal on `server`.
    pub async fn try_terminal(&self, server: &str) -> Result<OpenedWebsh, ClientError> {
        self.api.client.open_websh(&terminal_request(server)).await
    }

    /// Opens a terminal on `server`; returns its id and stream URL.
    pub async fn terminal(&self, server: &str) -> (String, String) {
        let opened = self.try_terminal(server).await.expect("a terminal");
        (opened.id.to_string(), self.server.ws_url(&opened.ws_path))
    }
}
