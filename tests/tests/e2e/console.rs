//! The web console in headless Chromium: the fixture the `console_*` modules share.

use gatehouse_e2e::browser::{console_server, Browser, Driver};
use gatehouse_e2e::{create_user, wait_connected, Agent, Api, Server, PASSWORD};
use serde_json::{json, Value};
use tempfile::TempDir;

/// A server that serves the built console, chromedriver, and optionally users and agents.
/// Fields drop in order: browsers first, then agents, then the server, then the data dir.
pub struct Console {
    pub driver: Driver,
    #[allow(dead_code)] // kept running until the fixture drops
    pub agents: Vec<Agent>,
    /// Superuser `ops`, signed in through the API (absent on a fresh install).
    pub api: Option<Api>,
    pub server: Server,
    #[allow(dead_code)] // removed when the fixture drops
    pub dir: TempDir,
}

impl Console {
    /// A fresh install: no users at all.
    pub async fn fresh() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = console_server(dir.path());
        let driver = Driver::start().await;
        Console {
            driver,
            agents: Vec::new(),
            api: None,
            server,
            dir,
        }
    }

    /// A superuser `ops`, the extra `users` (name, role), and registered, connected `agents`.
    pub async fn start(users: &[(&str, &str)], agents: &[&str]) -> Self {
        Self::start_with(users, agents, &[]).await
    }

    /// Like [`Console::start`], the agents run with `agent_flags` (`--provision-users`).
    pub async fn start_with(users: &[(&str, &str)], agents: &[&str], agent_flags: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        create_user(dir.path(), "ops", "superuser");
        for (name, role) in users {
            create_user(dir.path(), name, role);
        }
        let server = console_server(dir.path());
        let api = Api::login(&server.base, "ops").await;
        let mut running = Vec::new();
        if !agents.is_empty() {
            let reg = api
                .post(
                    "/api/servers/registration-tokens",
                    json!({"max_uses": agents.len()}),
                )
                .await;
            let token = reg["token"].as_str().expect("token");
            for name in agents {
                let config = Agent::register(&server.base, token, name, dir.path(), None);
                running.push(Agent::run_with(name, &config, agent_flags));
            }
            for name in agents {
                wait_connected(&api, name, true).await;
            }
        }
        let driver = Driver::start().await;
        Console {
            driver,
            agents: running,
            api: Some(api),
            server,
            dir,
        }
    }

    /// The superuser's API client.
    pub fn api(&self) -> &Api {
        self.api.as_ref().expect("a console started with users")
    }

    /// A new browser (own cookies), not signed in.
    pub async fn browser(&self) -> Browser {
        self.driver.browser(&self.server.base).await
    }

    /// A new browser signed in as `username` (password [`PASSWORD`]).
    pub async fn signed_in(&self, username: &str) -> Browser {
        let browser = self.browser().await;
        browser.sign_in(username, PASSWORD).await;
        browser
    }

    /// Grants `username` the servers matching `pattern` directly.
    pub async fn grant(&self, username: &str, pattern: &str) {
        let users = self.api().get("/api/users?limit=500").await;
        let id = users["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|u| u["username"] == username)
            .unwrap_or_else(|| panic!("no user {username}"))["id"]
            .as_str()
            .expect("id")
            .to_owned();
        self.api()
            .post(
                &format!("/api/users/{id}/servers"),
                json!({"pattern": pattern}),
            )
            .await;
    }

    /// A work session of `ops` (auto-approved) with `purpose` on `servers`.
    pub async fn session(&self, purpose: &str, scopes: &[&str], servers: &[&str]) -> Value {
        self.api()
            .post(
                "/api/work-sessions",
                json!({"purpose": purpose, "scopes": scopes, "servers": servers,
                       "duration_secs": 3600}),
            )
            .await
    }

    /// A one-hour work session of `member` on web-01 with `scopes`, approved by `ops` and
    /// activated by the member: the session as activated.
    pub async fn active_session_of(&self, member: &Api, purpose: &str, scopes: &[&str]) -> Value {
        let session = member
            .post(
                "/api/work-sessions",
                json!({"purpose": purpose, "scopes": scopes, "servers": ["web-01"],
                       "duration_secs": 3600}),
            )
            .await;
        let id = session["id"].as_str().expect("id").to_owned();
        self.api()
            .post(&format!("/api/work-sessions/{id}/approve"), json!({}))
            .await;
        member
            .post(&format!("/api/work-sessions/{id}/activate"), json!({}))
            .await
    }

    /// A work session as the API sees it now.
    pub async fn get_session(&self, id: &str) -> Value {
        self.api().get(&format!("/api/work-sessions/{id}")).await
    }
}
