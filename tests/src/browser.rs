//! Headless Chromium through chromedriver, for the console's end-to-end tests and benchmarks.
//!
//! One [`Driver`] (a `chromedriver` child process, stopped on drop) hands out any number of
//! independent [`Browser`]s: each is its own WebDriver session with its own profile, so its own
//! cookie jar. Every wait polls with a deadline; nothing sleeps to synchronise.
//!
//! Environment: `CHROMIUM` (default `/usr/bin/chromium`), `CHROMEDRIVER` (default `chromedriver`
//! on PATH), `GATEHOUSE_DOC_SCREENSHOTS` (a directory: tests that illustrate the docs save their
//! screenshots there).

use crate::{free_port, Server};
use data_encoding::BASE32_NOPAD;
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use hmac::{Hmac, Mac};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use sha1::Sha1;
use std::future::Future;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a UI wait lasts by default: generous, the machine may be compiling meanwhile.
pub const WAIT: Duration = Duration::from_secs(20);

/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);

/// The window every browser gets (also the size of the docs' screenshots).
pub const WINDOW: (u32, u32) = (1366, 900);

/// The repository root (the parent of this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the repository")
        .to_owned()
}

/// The built console (`dist/`), or a panic that says how to build it.
pub fn console_dir() -> PathBuf {
    let dist = repo_root().join("dist");
    assert!(
        dist.join("index.html").exists(),
        "{} is missing: run scripts/build-console.sh before the console tests",
        dist.join("index.html").display()
    );
    dist
}

/// A `gatehouse serve` over `data_dir` that also serves the built console at `/`.
pub fn console_server(data_dir: &Path) -> Server {
    let dist = console_dir();
    let dist = dist.to_str().expect("a UTF-8 path");
    Server::start_with(data_dir, 0, &["--console-dir", dist])
}

/// `target/` of the running test or bench executable (`target/<profile>/deps/<exe>`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("executable path");
    exe.ancestors()
        .nth(3)
        .map(Path::to_owned)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// Where failing UI tests leave their screenshots.
pub fn failure_screenshot_dir() -> PathBuf {
    target_dir().join("e2e-screenshots")
}

/// The directory the docs' screenshots are refreshed into, when asked for.
pub fn doc_screenshot_dir() -> Option<PathBuf> {
    std::env::var_os("GATEHOUSE_DOC_SCREENSHOTS")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

/// An authenticator enrolled for `api`'s user through the API: its secret and the step whose
/// code confirmed it (each code works once, so a later proof uses a later step).
pub async fn enrol_totp(api: &crate::Api) -> (String, i64) {
    let secret = api.post("/api/auth/mfa/totp", json!({})).await["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let step = totp_step_now();
    api.post(
        "/api/auth/mfa/totp/confirm",
        json!({"otp": totp_code(&secret, step)}),
    )
    .await;
    (secret, step)
}

/// The TOTP time step (RFC 6238, 30 s) of now.
pub fn totp_step_now() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    (secs / 30) as i64
}

/// The 6-digit TOTP code (HMAC-SHA1) of `secret` (base32, no padding) for `step`.
pub fn totp_code(secret: &str, step: i64) -> String {
    let key = BASE32_NOPAD
        .decode(secret.trim().as_bytes())
        .unwrap_or_else(|e| panic!("TOTP secret {secret:?} is not base32: {e}"));
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).expect("any key length");
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", binary % 1_000_000)
}

/// A running chromedriver; every browser it opened is closed, and it is stopped, on drop.
pub struct Driver {
    child: Child,
    port: u16,
    /// Every session opened, with its WebDriver id (for screenshots on failure and the clean-up).
    browsers: Mutex<Vec<(String, Browser)>>,
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it is ready.
    pub async fn start() -> Self {
        let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = free_port();
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            // Its own process group, so the browsers it starts can be stopped with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {program}: {e} (scripts/setup.sh installs chromium-driver)")
            });
        let mut driver = Driver {
            child,
            port,
            browsers: Mutex::new(Vec::new()),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("http client");
        let status = format!("{}/status", driver.url());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Some(exit)) = driver.child.try_wait() {
                panic!("chromedriver exited at start: {exit}");
            }
            if let Ok(r) = http.get(&status).send().await {
                if let Ok(body) = r.json::<Value>().await {
                    if body["value"]["ready"] == true {
                        return driver;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver on port {port} did not become ready"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// The WebDriver URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A new, independent browser (own profile and cookies) for the server at `base`.
    pub async fn browser(&self, base: &str) -> Browser {
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let window = format!("--window-size={},{}", WINDOW.0, WINDOW.1);
        let caps = json!({
            "browserName": "chrome",
            // Leave dialogs open, so a test can tell whether one was opened.
            "unhandledPromptBehavior": "ignore",
            // Keep the page's console, for the failure report.
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", window],
            },
        });
        let caps: Capabilities = caps.as_object().cloned().expect("an object literal");
        let mut attempt = 0;
        let client = loop {
            attempt += 1;
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&self.url())
                .await
            {
                Ok(client) => break client,
                // Chromium occasionally fails to start on a loaded machine: once more.
                Err(e) if attempt < 3 => eprintln!("browser session failed, retrying: {e}"),
                Err(e) => panic!("cannot open a browser session with {chromium}: {e}"),
            }
        };
        let id = client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        let browser = Browser {
            client,
            base: base.trim_end_matches('/').to_owned(),
        };
        self.browsers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, browser.clone()));
        browser
    }

    /// POSTs `body` to the session's chromedriver endpoint `/session/<id>/<path>`.
    async fn session_post(
        &self,
        browser: &Browser,
        path: &str,
        body: Value,
    ) -> Result<Value, String> {
        let id = browser
            .client
            .session_id()
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no session")?;
        let url = format!("{}/session/{id}/{path}", self.url());
        let response = reqwest::Client::new()
            .post(&url)
            .timeout(Duration::from_secs(30))
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let ok = response.status().is_success();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !ok {
            return Err(format!("{path} failed: {body}"));
        }
        Ok(body["value"].clone())
    }

    /// Runs the Chrome DevTools command `cmd` in `browser` (through chromedriver) and returns its
    /// result, e.g. `Network.clearBrowserCache`.
    pub async fn cdp(&self, browser: &Browser, cmd: &str, params: Value) -> Value {
        self.session_post(
            browser,
            "goog/cdp/execute",
            json!({"cmd": cmd, "params": params}),
        )
        .await
        .unwrap_or_else(|e| panic!("{cmd}: {e}"))
    }

    /// The page console's messages since the last call (level and text, one a line).
    pub async fn console_log(&self, browser: &Browser) -> Result<Vec<String>, String> {
        let entries = self
            .session_post(browser, "se/log", json!({"type": "browser"}))
            .await?;
        Ok(entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {}",
                            e["level"].as_str().unwrap_or("?"),
                            e["message"].as_str().unwrap_or_default()
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Saves a PNG of every open browser as `<dir>/<name>-<n>.png` (n from 1), best effort.
    pub async fn screenshot_all(&self, dir: &Path, name: &str) {
        let _ = std::fs::create_dir_all(dir);
        let browsers: Vec<Browser> = self
            .browsers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(_, b)| b.clone())
            .collect();
        for (n, browser) in browsers.iter().enumerate() {
            let path = dir.join(format!("{name}-{}.png", n + 1));
            let url = tokio::time::timeout(Duration::from_secs(5), browser.client.current_url())
                .await
                .ok()
                .and_then(Result::ok)
                .map_or_else(|| "?".to_owned(), |u| u.to_string());
            match tokio::time::timeout(Duration::from_secs(10), browser.try_screenshot_to(&path))
                .await
            {
                Ok(Ok(())) => eprintln!(
                    "screenshot of browser {} at {url}: {}",
                    n + 1,
                    path.display()
                ),
                Ok(Err(e)) => eprintln!("no screenshot of browser {} at {url}: {e}", n + 1),
                Err(_) => eprintln!("no screenshot of browser {} at {url}: timed out", n + 1),
            }
            let log = tokio::time::timeout(Duration::from_secs(10), self.console_log(browser));
            if let Ok(Ok(lines)) = log.await {
                let path = dir.join(format!("{name}-{}.log", n + 1));
                if std::fs::write(&path, lines.join("\n")).is_ok() && !lines.is_empty() {
                    eprintln!(
                        "console of browser {} ({} messages, last ones below): {}",
                        n + 1,
                        lines.len(),
                        path.display()
                    );
                    for line in lines.iter().rev().take(5).rev() {
                        eprintln!("    {line}");
                    }
                }
            }
        }
    }
}

/// One HTTP/1.1 request to chromedriver without an async runtime (for `Drop`).
fn blocking_request(port: u16, method: &str, path: &str) {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let browsers =
            std::mem::take(&mut *self.browsers.lock().unwrap_or_else(|e| e.into_inner()));
        // Ending each session makes chromedriver quit its Chromium and remove its profile.
        for (id, _) in &browsers {
            blocking_request(self.port, "DELETE", &format!("/session/{id}"));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Whatever Chromium process is left in chromedriver's own group goes with it.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
    }
}

/// Runs a UI test body; when it panics, saves a screenshot of every browser `driver` opened
/// into `target/e2e-screenshots/<name>-<n>.png`, then lets the panic continue.
pub async fn run_ui_test<F: Future<Output = ()>>(name: &str, driver: &Driver, test: F) {
    if let Err(panic) = AssertUnwindSafe(test).catch_unwind().await {
        driver.screenshot_all(&failure_screenshot_dir(), name).await;
        std::panic::resume_unwind(panic);
    }
}

/// One browser session: a fantoccini client and the server it talks to.
#[derive(Clone)]
pub struct Browser {
    pub client: Client,
    /// The server's base URL, which `goto` paths are relative to.
    pub base: String,
}

/// Polls `check` until it returns `Some`, or panics with `what` (and the page's URL) after `limit`.
async fn poll<T, F, Fut>(browser: &Browser, what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() >= deadline {
            let url = browser
                .client
                .current_url()
                .await
                .map_or_else(|e| format!("? ({e})"), |u| u.to_string());
            panic!("timed out after {limit:?} waiting for {what} (page {url})");
        }
        tokio::time::sleep(POLL).await;
    }
}

impl Browser {
    /// Navigates to `path` on the server (a full page load).
    /// Marks the page so that [`Browser::assert_not_reloaded`] can tell it was not reloaded.
    pub async fn mark_page(&self) {
        self.js("window.__e2eNoReload = true;", vec![]).await;
    }

    /// Fails when the page was reloaded (or navigated away) since [`Browser::mark_page`].
    pub async fn assert_not_reloaded(&self) {
        let marked = self
            .js("return window.__e2eNoReload === true;", vec![])
            .await;
        assert_eq!(marked, true, "the page was reloaded");
    }

    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("navigate to {url}: {e}"));
    }

    /// The current URL.
    pub async fn current_url(&self) -> url::Url {
        self.client.current_url().await.expect("current url")
    }

    /// Path and query of the current URL, e.g. `/sessions?status=active`.
    pub async fn path_and_query(&self) -> String {
        let url = self.current_url().await;
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The value of query parameter `name` in the current URL.
    pub async fn query_param(&self, name: &str) -> Option<String> {
        self.current_url()
            .await
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Waits until the URL's path is `path`.
    pub async fn wait_path(&self, path: &str) -> url::Url {
        self.wait_url(&format!("the path {path}"), |u| u.path() == path)
            .await
    }

    /// Waits until `check` accepts the current URL.
    pub async fn wait_url(&self, what: &str, check: impl Fn(&url::Url) -> bool) -> url::Url {
        poll(self, what, WAIT, || async {
            let url = self.client.current_url().await.ok()?;
            check(&url).then_some(url)
        })
        .await
    }

    /// The first element matching `css` now, if any.
    pub async fn find(&self, css: &str) -> Option<Element> {
        self.client.find(Locator::Css(css)).await.ok()
    }

    /// Every element matching `css` now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
    }

    /// Waits until an element matches `css`.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.wait_for_within(css, WAIT).await
    }

    /// Waits up to `limit` until an element matches `css`.
    pub async fn wait_for_within(&self, css: &str, limit: Duration) -> Element {
        poll(self, &format!("`{css}`"), limit, || self.find(css)).await
    }

    /// Waits until nothing matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        poll(self, &format!("`{css}` to go"), WAIT, || async {
            (self.count(css).await == 0).then_some(())
        })
        .await
    }

    /// Waits until an element matching `css` has a text containing `text`.
    pub async fn wait_text(&self, css: &str, text: &str) -> Element {
        self.wait_text_within(css, text, WAIT).await
    }

    /// Waits up to `limit` until an element matching `css` has a text containing `text`.
    pub async fn wait_text_within(&self, css: &str, text: &str, limit: Duration) -> Element {
        let what = format!("`{css}` containing {text:?}");
        poll(self, &what, limit, || async {
            for element in self.find_all(css).await {
                if element.text().await.is_ok_and(|t| t.contains(text)) {
                    return Some(element);
                }
            }
            None
        })
        .await
    }

    /// Waits until exactly `n` elements match `css`.
    pub async fn wait_count(&self, css: &str, n: usize) {
        let what = format!("{n} × `{css}`");
        poll(self, &what, WAIT, || async {
            (self.count(css).await == n).then_some(())
        })
        .await
    }

    /// The text of the first element matching `css` (waiting for it).
    pub async fn text(&self, css: &str) -> String {
        let what = format!("the text of `{css}`");
        poll(self, &what, WAIT, || async {
            self.find(css).await?.text().await.ok()
        })
        .await
    }

    /// The texts of every element matching `css` now.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.find_all(css).await {
            if let Ok(text) = element.text().await {
                texts.push(text);
            }
        }
        texts
    }

    /// Attribute `name` of every element matching `css` now (elements without it are skipped).
    pub async fn attrs(&self, css: &str, name: &str) -> Vec<String> {
        let value = self
            .js(
                "return Array.from(document.querySelectorAll(arguments[0]))\
                 .map(e => e.getAttribute(arguments[1])).filter(v => v !== null);",
                vec![json!(css), json!(name)],
            )
            .await;
        serde_json::from_value(value).unwrap_or_default()
    }

    /// How many elements match `css` now.
    pub async fn count(&self, css: &str) -> usize {
        self.js(
            "return document.querySelectorAll(arguments[0]).length;",
            vec![json!(css)],
        )
        .await
        .as_u64()
        .unwrap_or(0) as usize
    }

    /// Runs `script` in the page (`arguments[i]` are `args`) and returns its result.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// Clicks the element matching `css`, waiting until it exists and takes the click.
    pub async fn click(&self, css: &str) {
        let what = format!("`{css}` to take a click");
        poll(self, &what, WAIT, || async {
            let element = self.find(css).await?;
            if !element.is_enabled().await.unwrap_or(false) {
                return None;
            }
            element.click().await.ok()
        })
        .await
    }

    /// Sends `keys` to whatever has keyboard focus, as a person typing a shortcut does.
    pub async fn press(&self, keys: &str) {
        let focused = self
            .client
            .active_element()
            .await
            .unwrap_or_else(|e| panic!("no focused element: {e}"));
        focused
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("pressing {keys:?}: {e}"));
    }

    /// The `id` of the element that has keyboard focus.
    pub async fn focused_id(&self) -> String {
        self.js(
            "return document.activeElement && document.activeElement.id || '';",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Whether the checkbox (or option) matching `css` is checked (waiting for it).
    pub async fn is_checked(&self, css: &str) -> bool {
        self.wait_for(css)
            .await
            .is_selected()
            .await
            .unwrap_or_else(|e| panic!("is `{css}` checked: {e}"))
    }

    /// Types `text` into the field matching `css` (replacing what it holds), as a user does.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.wait_for(css).await;
        let holds = element
            .prop("value")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        if !holds.is_empty() {
            // Select all and delete: key events, so the page sees the change as typing.
            let control = char::from(Key::Control);
            let clear = format!("{control}a{control}{}", char::from(Key::Backspace));
            element
                .send_keys(&clear)
                .await
                .unwrap_or_else(|e| panic!("clear `{css}`: {e}"));
        }
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into `{css}`: {e}"));
    }

    /// Types `text` into the field matching `css`, then presses Enter.
    pub async fn fill_and_enter(&self, css: &str, text: &str) {
        self.fill(css, &format!("{text}{}", char::from(Key::Enter)))
            .await;
    }

    /// Picks the option with `value` in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.wait_for(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value:?} in `{css}`: {e}"));
    }

    /// Signs in through `/login` and waits until the console has left the sign-in page.
    pub async fn sign_in(&self, username: &str, password: &str) {
        self.goto("/login").await;
        self.fill("input[name=username]", username).await;
        self.fill("input[name=password]", password).await;
        self.click("button[type=submit]").await;
        self.wait_url(&format!("{username} signed in"), |u| u.path() != "/login")
            .await;
    }

    /// Types `text` into the xterm.js terminal on the page (as keystrokes: `Key::Enter` for ⏎).
    pub async fn type_in_terminal(&self, text: &str) {
        self.click(".xterm").await;
        let textarea = self.wait_for(".xterm-helper-textarea").await;
        if let Err(first) = textarea.send_keys(text).await {
            // The hidden textarea may refuse WebDriver's keys; the click focused it anyway.
            let focused = self
                .client
                .active_element()
                .await
                .expect("a focused element");
            focused
                .send_keys(text)
                .await
                .unwrap_or_else(|e| panic!("typing into the terminal failed: {first}; then: {e}"));
        }
    }

    /// The terminal's screen, one string per row (xterm.js DOM renderer, `.xterm-rows`).
    pub async fn terminal_lines(&self) -> Vec<String> {
        let rows = self
            .js(
                "const rows = document.querySelector('.xterm-rows');\
                 if (!rows) return [];\
                 return rows.children.length\
                   ? Array.from(rows.children).map(r => r.textContent)\
                   : rows.innerText.split('\\n');",
                vec![],
            )
            .await;
        let rows: Vec<String> = serde_json::from_value(rows).unwrap_or_default();
        rows.iter().map(|r| r.trim().to_owned()).collect()
    }

    /// Waits until a row of the terminal, trimmed, equals `line`.
    pub async fn wait_terminal_line(&self, line: &str) {
        let what = format!("a terminal row {line:?}");
        poll(self, &what, WAIT, || async {
            self.terminal_lines()
                .await
                .iter()
                .any(|l| l == line)
                .then_some(())
        })
        .await
    }

    /// Waits until the shell shows its prompt (a row ending in `$` or `#`), so what a test types
    /// next is read by the shell, not echoed early by the terminal and mixed with the prompt.
    pub async fn wait_terminal_prompt(&self) {
        poll(self, "the shell's prompt", WAIT, || async {
            self.terminal_lines()
                .await
                .iter()
                .any(|l| {
                    let l = l.trim_end();
                    l.ends_with('$') || l.ends_with('#')
                })
                .then_some(())
        })
        .await
    }

    /// Waits until the terminal's screen shows any text at all (a player's first frame).
    pub async fn wait_terminal_not_blank(&self) -> Vec<String> {
        poll(self, "a terminal showing some text", WAIT, || async {
            let lines = self.terminal_lines().await;
            lines.iter().any(|l| !l.is_empty()).then_some(lines)
        })
        .await
    }

    /// The text of an open `alert`/`confirm`/`prompt` dialog, if one is open.
    pub async fn alert_text(&self) -> Option<String> {
        self.client.get_alert_text().await.ok()
    }

    /// Saves a PNG screenshot of the page to `path` (creating its directory).
    pub async fn try_screenshot_to(&self, path: &Path) -> Result<(), String> {
        let png = self.client.screenshot().await.map_err(|e| e.to_string())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        std::fs::write(path, png).map_err(|e| e.to_string())
    }

    /// Saves a PNG screenshot of the page to `path`, or panics.
    pub async fn screenshot_to(&self, path: &Path) {
        self.try_screenshot_to(path)
            .await
            .unwrap_or_else(|e| panic!("screenshot to {}: {e}", path.display()));
    }

    /// Saves `file` (e.g. `websh.png`) into `GATEHOUSE_DOC_SCREENSHOTS` when that is set.
    pub async fn doc_screenshot(&self, file: &str) {
        if let Some(dir) = doc_screenshot_dir() {
            self.screenshot_to(&dir.join(file)).await;
        }
    }
}
