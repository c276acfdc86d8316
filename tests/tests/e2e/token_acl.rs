//! API tokens against a real agent: an argv runs without a shell (metacharacters are plain
//! bytes and the host stays untouched), a token's command has a clean environment, a symlink
//! inside an allowed folder that points out of it is refused by the agent itself, and a
//! service account's token runs exactly what it was granted.

use crate::Fixture;
use gatehouse_e2e::terminal::Term;
use gatehouse_e2e::{is_root, shell_user};
use gatehouse_shared::websh::close;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// A bearer-token client for the fixture's server.
pub(crate) struct TokenClient {
    http: reqwest::Client,
    base: String,
    pub(crate) secret: String,
}

impl TokenClient {
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.secret);
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

    async fn exec(&self, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, "/api/exec?wait=true", Some(body))
            .await
    }
}

/// A token of `ops` (or of the service account `service`) and its id.
pub(crate) async fn token(fx: &Fixture, service: Option<&str>) -> (TokenClient, String) {
    let created = match service {
        None => fx.api.post("/api/tokens", json!({"name": "e2e"})).await,
        Some(account) => {
            fx.api
                .post(
                    &format!("/api/service-accounts/{account}/tokens"),
                    json!({"name": "e2e"}),
                )
                .await
        }
    };
    let client = TokenClient {
        http: reqwest::Client::new(),
        base: fx.server.base.clone(),
        secret: created["token"].as_str().expect("secret").to_owned(),
    };
    (client, created["id"].as_str().expect("id").to_owned())
}

pub(crate) async fn grant(fx: &Fixture, token: &str, kind: &str, body: Value) {
    fx.api
        .post(&format!("/api/tokens/{token}/acl/{kind}"), body)
        .await;
}

/// A token of `ops` allowed on web-01 to run each of `commands` as [`run_as`], and its id.
pub(crate) async fn token_running(fx: &Fixture, commands: &[&str]) -> (TokenClient, String) {
    let (client, id) = token(fx, None).await;
    grant(fx, &id, "servers", json!({"pattern": "web-01"})).await;
    for command in commands {
        let rule = json!({"command": command, "user": run_as()});
        grant(fx, &id, "commands", rule).await;
    }
    (client, id)
}

/// Whom the token's commands run as here: the test's own account under root (an agent that
/// is root runs a token as the account its rule names), else the agent's own account.
pub(crate) fn run_as() -> Option<&'static str> {
    shell_user()
}

#[tokio::test]
async fn a_token_runs_argv_without_a_shell_and_with_a_clean_environment() {
    let fx = Fixture::start(&["web-01"]).await;
    let (client, id) = token(&fx, None).await;
    grant(&fx, &id, "servers", json!({"pattern": "web-01"})).await;
    grant(
        &fx,
        &id,
        "commands",
        json!({"command": "echo *", "user": run_as()}),
    )
    .await;
    grant(
        &fx,
        &id,
        "commands",
        json!({"command": "env", "user": run_as()}),
    )
    .await;

    let markers = fx.dir.path().join("markers");
    std::fs::create_dir(&markers).unwrap();
    std::fs::set_permissions(&markers, std::fs::Permissions::from_mode(0o777)).unwrap();
    let m = |name: &str| markers.join(name).display().to_string();
    let words = vec![
        "echo".to_owned(),
        format!("a; touch {}", m("semicolon")),
        format!("$(touch {})", m("dollar")),
        format!("`touch {}`", m("backquote")),
        format!("| touch {}", m("pipe")),
        format!("&& touch {} >{}", m("and"), m("redirect")),
    ];
    let (status, job) = client
        .exec(json!({"servers": ["web-01"], "argv": words, "user": run_as()}))
        .await;
    assert_eq!(status, 201, "{job}");
    let run = &job["runs"][0];
    assert_eq!(run["exit_code"], 0, "{run}");
    assert_eq!(run["stdout"], format!("{}\n", words[1..].join(" ")));
    let left: Vec<_> = std::fs::read_dir(&markers).unwrap().collect();
    assert!(left.is_empty(), "the host was touched: {left:?}");
    assert_eq!(job["argv"], json!(words));

    // The same as one command line is refused before anything runs, and audited.
    let (status, body) = client
        .exec(json!({"servers": ["web-01"], "command": format!("echo a; touch {}", m("line")), "user": run_as()}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error_code"], "token_acl_denied");
    assert!(!markers.join("line").exists());
    // A plain command line is split once and runs as argv.
    let (status, job) = client
        .exec(json!({"servers": ["web-01"], "command": "echo 'two words' three", "user": run_as()}))
        .await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["runs"][0]["stdout"], "two words three\n");

    // Nothing of the gateway's or the agent's environment reaches a token's command.
    let (status, job) = client
        .exec(json!({"servers": ["web-01"], "argv": ["env"], "user": run_as()}))
        .await;
    assert_eq!(status, 201, "{job}");
    let mut keys: Vec<String> = job["runs"][0]["stdout"]
        .as_str()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_owned()))
        .collect();
    keys.sort();
    assert_eq!(keys, ["HOME", "LANG", "LOGNAME", "PATH", "USER"], "{job}");
}

#[tokio::test]
async fn the_agent_refuses_a_symlink_that_leads_out_of_an_allowed_folder() {
    let fx = Fixture::start(&["web-01"]).await;
    let (client, id) = token(&fx, None).await;
    // Under root the token acts as root only because its rule names root; otherwise the agent
    // runs file operations as itself.
    let user = is_root().then_some("root");
    grant(&fx, &id, "servers", json!({"pattern": "web-01"})).await;
    let allowed = fx.dir.path().join("allowed");
    std::fs::create_dir(&allowed).unwrap();
    std::fs::write(allowed.join("ok.txt"), "inside\n").unwrap();
    std::fs::write(fx.dir.path().join("secret.txt"), "outside secret\n").unwrap();
    std::os::unix::fs::symlink(fx.dir.path().join("secret.txt"), allowed.join("escape")).unwrap();
    let rule = format!("{}/**", allowed.display());
    grant(
        &fx,
        &id,
        "files",
        json!({"path": rule, "action": "download", "user": user}),
    )
    .await;
    let q = |path: &std::path::Path| {
        let mut query = format!("path={}", path.display());
        if let Some(user) = user {
            query.push_str(&format!("&user={user}"));
        }
        query
    };

    let read = |path: std::path::PathBuf| {
        let client = &client;
        let query = q(&path);
        async move {
            client
                .call(
                    reqwest::Method::GET,
                    &format!("/api/files/web-01/content?{query}"),
                    None,
                )
                .await
        }
    };
    let (status, body) = read(allowed.join("ok.txt")).await;
    assert_eq!((status, body), (200, Value::String("inside\n".into())));
    // The gateway sees a path under the rule; the agent sees where it really leads.
    let (status, body) = read(allowed.join("escape")).await;
    assert_eq!(status, 403, "{body}");
    assert!(!body.to_string().contains("outside secret"), "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("rules"),
        "{body}"
    );
    // Outside the rule altogether, the gateway refuses first.
    let (status, body) = read(fx.dir.path().join("secret.txt")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error_code"], "token_acl_denied");
    // The folder lists, link included (a listing never follows links).
    let (status, listing) = client
        .call(
            reqwest::Method::GET,
            &format!("/api/files/web-01/list?{}", q(&allowed)),
            None,
        )
        .await;
    assert_eq!(status, 200, "{listing}");
    let names: Vec<&str> = listing["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"escape") && names.contains(&"ok.txt"),
        "{names:?}"
    );
}

#[tokio::test]
async fn a_service_account_token_runs_what_it_was_granted() {
    let fx = Fixture::start(&["web-01"]).await;
    let account = fx
        .api
        .post("/api/service-accounts", json!({"name": "ci-deploy"}))
        .await;
    let (client, id) = token(&fx, Some(account["id"].as_str().unwrap())).await;
    assert!(client.secret.starts_with("ghst_"));
    let (status, body) = client
        .exec(json!({"servers": ["web-01"], "argv": ["id", "-un"], "user": run_as()}))
        .await;
    assert_eq!(
        (status, body["error_code"].clone()),
        (403, json!("token_acl_denied"))
    );

    grant(&fx, &id, "servers", json!({"pattern": "web-*"})).await;
    grant(
        &fx,
        &id,
        "commands",
        json!({"command": "id -un", "user": run_as()}),
    )
    .await;
    let (status, job) = client
        .exec(json!({"servers": ["web-01"], "argv": ["id", "-un"], "user": run_as()}))
        .await;
    assert_eq!(status, 201, "{job}");
    let run = &job["runs"][0];
    assert_eq!(run["status"], "succeeded", "{run}");
    if let Some(account) = run_as() {
        assert_eq!(run["stdout"], format!("{account}\n"));
    }
    // Anything else is still refused.
    let (status, _) = client
        .exec(json!({"servers": ["web-01"], "argv": ["id"], "user": run_as()}))
        .await;
    assert_eq!(status, 403);
    let runs = fx.api.get("/api/audit?action=exec.run").await;
    assert_eq!(runs["items"][0]["actor"], "svc:ci-deploy", "{runs}");
}

#[tokio::test]
async fn a_token_opens_a_terminal_only_with_a_lone_star_rule_and_revoking_it_ends_it() {
    let fx = Fixture::start(&["web-01"]).await;
    let (client, id) = token(&fx, None).await;
    grant(&fx, &id, "servers", json!({"pattern": "web-01"})).await;
    grant(
        &fx,
        &id,
        "commands",
        json!({"command": "uptime", "user": run_as()}),
    )
    .await;
    let open = json!({"server": "web-01", "cols": 80, "rows": 24, "user": run_as()});
    // A shell runs anything: a narrower command rule does not open one.
    let (status, body) = client
        .call(reqwest::Method::POST, "/api/websh", Some(open.clone()))
        .await;
    assert_eq!(
        (status, body["error_code"].clone()),
        (403, json!("token_acl_denied")),
        "{body}"
    );

    grant(
        &fx,
        &id,
        "commands",
        json!({"command": "*", "user": run_as()}),
    )
    .await;
    let (status, opened) = client
        .call(reqwest::Method::POST, "/api/websh", Some(open))
        .await;
    assert_eq!(status, 201, "{opened}");
    let url = fx.server.ws_url(opened["ws_path"].as_str().unwrap());
    // Only the token that opened it attaches: not its owner's sign-in.
    let mut by_cookie = Term::connect(&url, &fx.api, None).await.expect("connect");
    by_cookie.read_until(WAIT, |_| false).await;
    assert_eq!(by_cookie.closed, Some(close::NOT_FOUND));
    let mut term = Term::connect_bearer(&url, &client.secret)
        .await
        .expect("connect");
    term.type_text("echo token-$((6*7))\n").await;
    assert!(
        term.read_until(WAIT, |t| t.text().contains("token-42"))
            .await,
        "{}",
        term.text()
    );
    // It rides on no work session, so it cannot be shared.
    let share = format!("/api/websh/{}/share", opened["id"].as_str().unwrap());
    let (status, _) = client
        .call(reqwest::Method::POST, &share, Some(json!({})))
        .await;
    assert_eq!(status, 403);
    let live = fx.api.get("/api/websh/live").await;
    assert_eq!(live["items"][0]["work_session"], Value::Null, "{live}");

    // Revoking the token ends the terminal within the watcher's sweep.
    let (status, _) = fx
        .api
        .call(reqwest::Method::DELETE, &format!("/api/tokens/{id}"), None)
        .await;
    assert_eq!(status, 204);
    term.read_until(WAIT, |_| false).await;
    assert!(term.closed.is_some(), "the terminal outlived its token");
    let recording = fx
        .api
        .get(&format!(
            "/api/recordings/{}",
            opened["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(recording["work_session"], Value::Null);
}
