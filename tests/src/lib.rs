//! Harness for the end-to-end tests: real `gatehouse` and `gatehouse-agent` processes on
//! loopback, each test with its own data dir, everything stopped on drop.

use gatehouse_client::api::ops::AuditFilter;
use gatehouse_client::{Client, ClientConfig};
use gatehouse_shared::audit::AuditEvent;
use gatehouse_shared::settings::SettingsPatch;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod bench;
pub mod browser;
pub mod exec_stream;
pub mod files;
pub mod gate;
pub mod pty;
pub mod terminal;
pub mod tunnel;

pub const PASSWORD: &str = "correct horse battery staple";

/// A workspace binary built next to the test executable (`scripts/test.sh` builds them first).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/e2e-<hash> → target/<profile>/<name>
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` before the end-to-end tests",
        path.display()
    );
    path
}

/// Whether this process runs as root (its effective uid is 0).
pub fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
}

/// The account test terminals run as when the tests run as root: a dedicated system user with
/// a plain `/bin/sh`, so no login script of the machine's own users (a version manager's rehash
/// lock, a slow prompt) can stall or change a test. It also exercises run-as. `None` when not root.
/// Named after this process, so two test processes (two checkouts tested side by side) never
/// remove each other's account at exit.
pub fn shell_user() -> Option<&'static str> {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static USER: std::sync::OnceLock<Option<&'static str>> = std::sync::OnceLock::new();
    *USER.get_or_init(|| {
        let name: &'static str = NAME.get_or_init(|| format!("gh-e2e-{}", std::process::id()));
        if !is_root() {
            eprintln!(
                "note: not running as root, so terminals, commands and file channels run as this \
                 test's own account; run-as another account, and the root-only file check, are \
                 tested only under root"
            );
            return None;
        }
        let exists = Command::new("id")
            .arg(name)
            .output()
            .is_ok_and(|o| o.status.success());
        if !exists {
            let status = Command::new("useradd")
                .args([
                    "--system",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/bin/sh",
                    name,
                ])
                .status()
                .expect("run useradd");
            // 9: created meanwhile by a parallel test.
            assert!(
                status.success() || status.code() == Some(9),
                "useradd {name} failed"
            );
        }
        extern "C" fn remove_account() {
            // Only once every test of this process is done; a process still running as the
            // account (a shell a test left behind) makes userdel refuse, which is reported.
            let Some(name) = NAME.get() else { return };
            match Command::new("userdel").arg(name).status() {
                Ok(status) if status.success() => {}
                other => eprintln!("note: could not remove the test account {name}: {other:?}"),
            }
        }
        // SAFETY: registering a plain `extern "C"` function with no captured state. The test
        // harness exits through `exit`, which runs it.
        #[allow(unsafe_code)]
        unsafe {
            libc::atexit(remove_account)
        };
        Some(name)
    })
}

/// The uid of a server account, or `None` when there is no such account.
pub fn uid_of(account: &str) -> Option<u32> {
    let out = Command::new("id").args(["-u", account]).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().parse().ok())?
}

/// A rustls client configuration trusting only the PEM CA `ca_pem` (a `--tls-self-signed` server).
pub fn client_tls(ca_pem: &[u8]) -> std::sync::Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut &ca_pem[..]) {
        roots
            .add(cert.expect("a PEM certificate"))
            .expect("a usable CA");
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    std::sync::Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// An HTTPS client trusting only the PEM CA `ca_pem`, without pooled connections.
pub fn https_client(ca_pem: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).expect("a PEM CA"))
        .tls_built_in_root_certs(false)
        .pool_max_idle_per_host(0)
        .build()
        .expect("https client")
}

/// Resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A port that was free a moment ago (for a server that must come back on the same address).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local addr").port()
}

/// A running `gatehouse serve`.
pub struct Server {
    child: Child,
    pub base: String,
    pub data_dir: PathBuf,
}

impl Server {
    /// Starts a server on `port` (0: any) over `data_dir`, waiting for its "listening" line.
    pub fn start(data_dir: &Path, port: u16) -> Self {
        Self::start_with(data_dir, port, &[])
    }

    /// Like `start`, with extra `serve` flags.
    pub fn start_with(data_dir: &Path, port: u16, extra: &[&str]) -> Self {
        Self::spawn(data_dir, port, extra, "warn", Stdio::inherit())
    }

    /// Like `start_with`, logging everything down to debug level into `log` (for tests that
    /// check what the server's log holds).
    pub fn start_logged(data_dir: &Path, extra: &[&str], log: &Path) -> Self {
        let file = std::fs::File::create(log).expect("create the log file");
        Self::spawn(data_dir, 0, extra, "debug", Stdio::from(file))
    }

    fn spawn(data_dir: &Path, port: u16, extra: &[&str], level: &str, stderr: Stdio) -> Self {
        let mut child = Command::new(binary("gatehouse"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", level)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start gatehouse serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines
            .next()
            .expect("a first line")
            .expect("readable stdout");
        let base = first
            .strip_prefix("gatehouse listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_owned();
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base,
            data_dir: data_dir.to_owned(),
        }
    }

    /// SIGKILL, as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in base URL")
    }

    pub fn ws_url(&self, path: &str) -> String {
        let base = self
            .base
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1);
        format!("{base}{path}")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates a user directly in the store (as `gatehouse admin create-user` does), whose own
/// server account is the test account when the tests run as root.
pub fn create_user(data_dir: &Path, username: &str, role: &str) {
    let mut child = Command::new(binary("gatehouse"))
        .args([
            "admin",
            "create-user",
            "--username",
            username,
            "--role",
            role,
            "--data-dir",
        ])
        .arg(data_dir)
        // Under root every test person's own account is the test account, so terminals and
        // commands that name no account run as it (see `shell_user`).
        .args(
            shell_user()
                .map(|user| ["--unix-user", user])
                .into_iter()
                .flatten(),
        )
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("run create-user");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("write password");
    assert!(child.wait().expect("wait").success(), "create-user failed");
}

/// A typed client of the server at `base` holding the bearer `credential` (an API token or a
/// CLI sign-in), or no credential at all: someone not signed in.
pub fn bearer_client(base: &str, credential: Option<&str>) -> Client {
    Client::new(ClientConfig {
        base_url: base.to_owned(),
        credential: credential.map(str::to_owned),
        user_agent: "gatehouse-e2e".to_owned(),
        ..ClientConfig::default()
    })
    .expect("a typed client")
}

/// A browser sign-in, as the console holds one: its cookie and CSRF token. `client` is the
/// typed client (`gatehouse-client`, the one the console and `gate` speak through) acting as
/// this sign-in; tests speak through it. The raw `call`/`post`/`get`/`request` are for what a
/// typed client cannot say: malformed bodies, missing headers, odd paths, the wire itself.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub client: Client,
    pub base: String,
    pub csrf: String,
    pub cookie: String,
}

impl Api {
    pub async fn login(base: &str, username: &str) -> Self {
        // No pooled connections: a test may kill and restart the server under the client.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("http client");
        Self::login_with(http, None, base, username).await
    }

    /// Signs in over HTTPS to a server whose certificate the PEM CA `ca_pem` signed.
    pub async fn login_tls(base: &str, username: &str, ca_pem: &[u8]) -> Self {
        Self::login_with(https_client(ca_pem), Some(ca_pem), base, username).await
    }

    /// Signs in with a prepared raw client (`ca_pem`: the CA the typed client trusts too).
    async fn login_with(
        http: reqwest::Client,
        ca_pem: Option<&[u8]>,
        base: &str,
        username: &str,
    ) -> Self {
        let r = http
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .expect("login request");
        assert_eq!(r.status(), 200, "login failed");
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .split(';')
            .next()
            .expect("pair")
            .to_owned();
        let body: Value = r.json().await.expect("login body");
        let csrf = body["csrf_token"].as_str().expect("csrf").to_owned();
        let client = Client::new(ClientConfig {
            base_url: base.to_owned(),
            ca_pem: ca_pem.map(<[u8]>::to_vec),
            user_agent: "gatehouse-e2e".to_owned(),
            csrf_token: Some(csrf.clone()),
            cookie: Some(cookie.clone()),
            ..ClientConfig::default()
        })
        .expect("a typed client");
        Api {
            http,
            client,
            base: base.to_owned(),
            csrf,
            cookie,
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A request with this sign-in's cookie and CSRF header, for bodies `call` cannot send
    /// (streams, raw bytes).
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.call(reqwest::Method::POST, path, Some(body)).await;
        assert!(
            (200..300).contains(&status),
            "POST {path} → {status}: {value}"
        );
        value
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, value) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {value}");
        value
    }

    /// Changes the workspace's settings (as a superuser).
    pub async fn update_settings(&self, patch: SettingsPatch) {
        self.client
            .update_settings(&patch)
            .await
            .expect("settings changed");
    }

    /// Audit events whose action is `action` (`agent.*` for a family), oldest first, at most
    /// 500.
    pub async fn audit(&self, action: &str) -> Vec<AuditEvent> {
        let filter = AuditFilter {
            action: Some(action.to_owned()),
            limit: Some(500),
            ..AuditFilter::default()
        };
        self.client
            .audit(&filter)
            .await
            .expect("the audit log")
            .items
    }

    /// Terminal `id`'s asciicast recording as it stands, once it holds `marker`.
    pub async fn recording_with(&self, id: &str, marker: &str) -> String {
        eventually(
            &format!("the recording to hold {marker}"),
            Duration::from_secs(20),
            || async {
                let cast = self
                    .request(reqwest::Method::GET, &format!("/api/websh/{id}/recording"))
                    .send()
                    .await
                    .ok()?
                    .text()
                    .await
                    .ok()?;
                cast.contains(marker).then_some(cast)
            },
        )
        .await
    }
}

/// A running `gatehouse-agent run`.
pub struct Agent {
    child: Child,
    pub name: String,
    pub config: PathBuf,
}

impl Agent {
    /// Registers `name` with `token` into `dir`, then runs it.
    pub fn register_and_run(server: &str, token: &str, name: &str, dir: &Path) -> Self {
        Self::register_and_run_with_ca(server, token, name, dir, None)
    }

    /// Registers `name` (trusting `ca` for an https server) into `dir`, then runs it.
    pub fn register_and_run_with_ca(
        server: &str,
        token: &str,
        name: &str,
        dir: &Path,
        ca: Option<&Path>,
    ) -> Self {
        let config = Self::register(server, token, name, dir, ca);
        Self::run(name, &config)
    }

    /// Registers `name` with `token` into `dir` (trusting `ca` for an https server); returns
    /// the agent's configuration file, for `run_with`.
    pub fn register(
        server: &str,
        token: &str,
        name: &str,
        dir: &Path,
        ca: Option<&Path>,
    ) -> PathBuf {
        let config = dir.join(format!("{name}.json"));
        let mut cmd = Command::new(binary("gatehouse-agent"));
        cmd.args([
            "register", "--server", server, "--token", token, "--name", name, "--config",
        ])
        .arg(&config);
        if let Some(ca) = ca {
            cmd.arg("--ca").arg(ca);
        }
        let out = cmd.output().expect("run agent register");
        assert!(
            out.status.success(),
            "register failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        config
    }

    pub fn run(name: &str, config: &Path) -> Self {
        Self::run_with_grace(name, config, 120)
    }

    /// Runs with a terminal grace period of `grace_secs`.
    pub fn run_with_grace(name: &str, config: &Path, grace_secs: u64) -> Self {
        Self::run_with(name, config, &["--grace-secs", &grace_secs.to_string()])
    }

    /// Runs with extra `run` flags (e.g. `--file-root DIR`).
    pub fn run_with(name: &str, config: &Path, extra: &[&str]) -> Self {
        let child = Command::new(binary("gatehouse-agent"))
            .arg("run")
            .args(extra)
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start agent");
        Agent {
            child,
            name: name.to_owned(),
            config: config.to_owned(),
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How often `eventually` looks again.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Polls `check` until it returns `Some`, or panics after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Waits until the server list shows `name` connected (or not).
pub async fn wait_connected(api: &Api, name: &str, connected: bool) {
    eventually(
        &format!("{name} connected={connected}"),
        Duration::from_secs(60),
        || async {
            let list = api.client.servers(Some(name.to_owned())).await.ok()?;
            let found = list.items.into_iter().find(|s| s.name == name)?;
            (found.connected == connected).then_some(())
        },
    )
    .await
}
