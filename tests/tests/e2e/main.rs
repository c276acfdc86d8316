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

use gatehouse_e2e::{create_user, wait_connected, Agent, Api, Server};
use serde_json::{json, Value};
use tempfile::TempDir;

/// A new API token of the person signed in to `api`: its secret and id.
pub async fn api_token(api: &Api, name: &str) -> (String, String) {
    let created = api.post("/api/tokens", json!({"name": name})).await;
    (
        created["token"].as_str().expect("secret").to_owned(),
        created["id"].as_str().expect("id").to_owned(),
    )
}

/// A new API token of `api`'s person allowed `sh …` (as the test shell account) on the servers
/// matching `servers`: its secret.
pub async fn shell_token(api: &Api, name: &str, servers: &str) -> String {
    let (secret, id) = api_token(api, name).await;
    api.post(
        &format!("/api/tokens/{id}/acl/servers"),
        json!({"pattern": servers}),
    )
    .await;
    api.post(
        &format!("/api/tokens/{id}/acl/commands"),
        json!({"command": "sh *", "user": gatehouse_e2e::shell_user()}),
    )
    .await;
    secret
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
            .post(
                "/api/servers/registration-tokens",
                json!({"max_uses": names.len().max(1)}),
            )
            .await;
        let token = reg["token"].as_str().expect("token").to_owned();
        let agents: Vec<Agent> = names
            .iter()
            .map(|name| Agent::register_and_run(&server.base, &token, name, dir.path()))
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
    pub async fn session(&self, scopes: &[&str], servers: &[&str]) -> Value {
        let s = self
            .api
            .post(
                "/api/work-sessions",
                json!({"purpose": "e2e", "scopes": scopes, "servers": servers, "duration_secs": 3600}),
            )
            .await;
        let id = s["id"].as_str().expect("id");
        self.api
            .post(&format!("/api/work-sessions/{id}/use"), json!({}))
            .await
    }

    /// A member `username` signed in, granted the servers matching `pattern`.
    pub async fn member(&self, username: &str, pattern: &str) -> Api {
        let user = self
            .api
            .post(
                "/api/users",
                json!({"username": username, "password": gatehouse_e2e::PASSWORD, "role": "member"}),
            )
            .await;
        let id = user["id"].as_str().expect("user id");
        let (status, body) = self
            .api
            .call(
                reqwest::Method::POST,
                &format!("/api/users/{id}/servers"),
                Some(json!({"pattern": pattern})),
            )
            .await;
        assert_eq!(status, 204, "{body}");
        Api::login(&self.server.base, username).await
    }

    /// Tries to open a terminal on `server`; returns the HTTP status and body.
    pub async fn try_terminal(&self, server: &str) -> (u16, Value) {
        let body =
            json!({"server": server, "cols": 80, "rows": 24, "user": gatehouse_e2e::shell_user()});
        self.api
            .call(reqwest::Method::POST, "/api/websh", Some(body))
            .await
    }

    /// Opens a terminal on `server`; returns its id and stream URL.
    pub async fn terminal(&self, server: &str) -> (String, String) {
        let body =
            json!({"server": server, "cols": 80, "rows": 24, "user": gatehouse_e2e::shell_user()});
        let opened = self.api.post("/api/websh", body).await;
        let id = opened["id"].as_str().expect("id").to_owned();
        let url = self
            .server
            .ws_url(opened["ws_path"].as_str().expect("ws_path"));
        (id, url)
    }
}
