//! The web console in headless Chromium: the fixture the `console_*` modules share.

use crate::session_request;
use gatehouse_client::api::sessions::SessionStep;
use gatehouse_client::ClientError;
use gatehouse_e2e::browser::{console_server, Browser, Driver};
use gatehouse_e2e::{bearer_client, create_user, wait_connected, Agent, Api, Server, PASSWORD};
use gatehouse_shared::api::{LoginRequest, LoginResponse};
use gatehouse_shared::server::{CreateRegistrationToken, CreateServer};
use gatehouse_shared::work_session::{ApproveWorkSession, CreateWorkSession, WorkSession};
use gatehouse_shared::WorkSessionId;
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
                .client
                .create_registration_token(&CreateRegistrationToken {
                    expires_in_secs: None,
                    max_uses: Some(agents.len() as i64),
                })
                .await
                .expect("a registration token");
            for name in agents {
                let config = Agent::register(&server.base, &reg.token, name, dir.path(), None);
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

    /// Tries to sign in as `username` with `password` from a new client, as a browser would.
    pub async fn try_login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<LoginResponse, ClientError> {
        let anonymous = bearer_client(&self.server.base, None);
        let login = LoginRequest {
            username: username.to_owned(),
            password: password.to_owned(),
            otp: None,
            client: None,
            client_name: None,
        };
        anonymous.login(&login).await
    }

    /// A server entry `name` with no agent behind it (yet).
    pub async fn add_server(&self, name: &str) {
        let entry = CreateServer {
            name: name.to_owned(),
            platform: None,
            groups: None,
        };
        self.api()
            .client
            .create_server(&entry)
            .await
            .expect("a server entry");
    }

    /// Grants `username` the servers matching `pattern` directly.
    pub async fn grant(&self, username: &str, pattern: &str) {
        let ops = &self.api().client;
        let users = ops.users(None).await.expect("the users");
        let id = users
            .items
            .iter()
            .find(|u| u.username == username)
            .unwrap_or_else(|| panic!("no user {username}"))
            .id;
        ops.grant_user_servers(id, pattern)
            .await
            .expect("servers granted");
    }

    /// A work session of `ops` (auto-approved) with `purpose` on `servers`.
    pub async fn session(&self, purpose: &str, scopes: &[&str], servers: &[&str]) -> WorkSession {
        self.api()
            .client
            .create_work_session(&CreateWorkSession {
                purpose: purpose.to_owned(),
                ..session_request(scopes, servers)
            })
            .await
            .expect("a work session")
    }

    /// Activates `ops`'s own work session `id`: the session as activated.
    pub async fn activate(&self, id: WorkSessionId) -> WorkSession {
        self.api()
            .client
            .transition_work_session(id, SessionStep::Activate)
            .await
            .expect("the session active")
    }

    /// A one-hour work session of `member` on web-01 with `scopes`, approved by `ops` and
    /// activated by the member: the session as activated.
    pub async fn active_session_of(
        &self,
        member: &Api,
        purpose: &str,
        scopes: &[&str],
    ) -> WorkSession {
        let request = CreateWorkSession {
            purpose: purpose.to_owned(),
            ..session_request(scopes, &["web-01"])
        };
        self.active_session(member, &request).await
    }

    /// `member`'s work session as `request` asks, approved by `ops` as asked and activated by
    /// the member: the session as activated.
    pub async fn active_session(&self, member: &Api, request: &CreateWorkSession) -> WorkSession {
        let requested = member
            .client
            .create_work_session(request)
            .await
            .expect("a work session");
        self.api()
            .client
            .approve_work_session(requested.id, &ApproveWorkSession::default())
            .await
            .expect("the session approved");
        member
            .client
            .transition_work_session(requested.id, SessionStep::Activate)
            .await
            .expect("the session active")
    }

    /// A work session as the API sees it now.
    pub async fn get_session(&self, id: WorkSessionId) -> WorkSession {
        self.api()
            .client
            .work_session(id)
            .await
            .expect("the work session")
    }
}
