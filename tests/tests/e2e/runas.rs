//! Every person runs as their own account: a member who names no account gets their own
//! (created on first use by an agent run with `--provision-users`, and audited), another
//! account needs a group's run-as grant or `sudo`, and without provisioning a missing account
//! is refused with a message saying what to ask for.

use crate::Fixture;
use gatehouse_e2e::terminal::Term;
use gatehouse_e2e::{shell_user, uid_of, wait_connected, Agent, Api, PASSWORD};
use serde_json::{json, Value};
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// Restarts the fixture's agent with `extra` flags.
async fn restart_agent(fx: &mut Fixture, extra: &[&str]) {
    let name = fx.agents[0].name.clone();
    let config = fx.agents[0].config.clone();
    fx.agents[0].kill();
    wait_connected(&fx.api, &name, false).await;
    fx.agents[0] = Agent::run_with(&name, &config, extra);
    wait_connected(&fx.api, &name, true).await;
}

/// A member created through the API (so their account is derived from the username), granted
/// web-01, with an approved and selected work session of `scopes`; signed in.
async fn member_with_session(fx: &Fixture, username: &str, scopes: &[&str]) -> (Api, Value) {
    let user = fx
        .api
        .post(
            "/api/users",
            json!({"username": username, "password": PASSWORD, "role": "member"}),
        )
        .await;
    let id = user["id"].as_str().expect("user id");
    let (status, body) = fx
        .api
        .call(
            reqwest::Method::POST,
            &format!("/api/users/{id}/servers"),
            Some(json!({"pattern": "web-01"})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let member = Api::login(&fx.server.base, username).await;
    let session = member
        .post(
            "/api/work-sessions",
            json!({"purpose": "own account", "scopes": scopes, "servers": ["web-01"],
                   "duration_secs": 3600}),
        )
        .await;
    let sid = session["id"].as_str().expect("session id");
    fx.api
        .post(&format!("/api/work-sessions/{sid}/approve"), json!({}))
        .await;
    member
        .post(&format!("/api/work-sessions/{sid}/use"), json!({}))
        .await;
    (member, user)
}

/// Removes a server account the test made, whatever happens to the test.
struct AccountGuard(String);

impl Drop for AccountGuard {
    fn drop(&mut self) {
        // Shells of the account may still be exiting; userdel refuses while they run.
        let _ = Command::new("pkill")
            .args(["-KILL", "-u", &self.0])
            .status();
        let _ = Command::new("userdel").args(["-r", &self.0]).status();
    }
}

#[tokio::test]
async fn a_member_runs_as_their_own_account_created_on_first_use() {
    if shell_user().is_none() {
        eprintln!("skipped: creating server accounts needs root (run the tests as root)");
        return;
    }
    let mut fx = Fixture::start(&["web-01"]).await;
    restart_agent(&mut fx, &["--provision-users"]).await;
    // A name no earlier run left behind.
    let tag = uuid_tag();
    let username = format!("Dana.{tag}@example.com");
    let (member, user) = member_with_session(&fx, &username, &["websh", "command", "webftp"]).await;
    let account = user["unix_user"].as_str().expect("unix_user").to_owned();
    assert_eq!(account, format!("dana_{tag}_example_com"));
    let _guard = AccountGuard(account.clone());
    assert_eq!(uid_of(&account), None, "the account must not exist yet");

    // Whom the console offers: their own account, nothing granted yet.
    let choices = member.get("/api/run-as/web-01").await;
    assert_eq!(choices["own"], account.as_str(), "{choices}");
    assert_eq!(choices["granted"], json!([]), "{choices}");
    assert_eq!(choices["agent_is_root"], true, "{choices}");

    // A terminal that names no account runs as theirs, created for it.
    let opened = member
        .post(
            "/api/websh",
            json!({"server": "web-01", "cols": 80, "rows": 24}),
        )
        .await;
    let url = fx
        .server
        .ws_url(opened["ws_path"].as_str().expect("ws_path"));
    let mut term = Term::connect(&url, &member, None).await.expect("connect");
    term.type_text("echo me=$(id -un)\r").await;
    let want = format!("me={account}");
    assert!(
        term.read_until(WAIT, |t| t.text().contains(&want)).await,
        "{}",
        term.text()
    );
    let uid = uid_of(&account).expect("the account exists now");
    assert!(
        uid >= 1000,
        "a person's account, not a system one: uid {uid}"
    );
    let created = fx
        .api
        .get("/api/audit?action=agent.user_provisioned&limit=10")
        .await;
    assert_eq!(created["total"], 1, "{created}");
    assert_eq!(created["items"][0]["target"], account.as_str());
    assert_eq!(created["items"][0]["server"], "web-01");

    // A command and a file too: as the same account, and the file is theirs on disk.
    let job = member
        .post(
            "/api/exec?wait=true",
            json!({"servers": ["web-01"], "command": "id -un"}),
        )
        .await;
    assert_eq!(job["runs"][0]["stdout"], format!("{account}\n"), "{job}");
    let home = format!("/home/{account}");
    let path = format!("{home}/hello.txt");
    let r = member
        .request(
            reqwest::Method::PUT,
            &format!("/api/files/web-01/content?path={path}"),
        )
        .body("hello from my own account")
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let meta = std::fs::metadata(&path).expect("the uploaded file");
    assert_eq!(meta.uid(), uid, "the file belongs to the person's account");
    assert_eq!(
        fx.api
            .get("/api/audit?action=agent.user_provisioned&limit=10")
            .await["total"],
        1,
        "created once"
    );

    // Another account: refused without sudo or a grant, allowed once a group grants it.
    let other = shell_user().expect("root");
    let body = json!({"server": "web-01", "cols": 80, "rows": 24, "user": other});
    let (status, refused) = member
        .call(reqwest::Method::POST, "/api/websh", Some(body.clone()))
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error_code"], "work_session_scope_not_allowed");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("sudo")),
        "{refused}"
    );
    let group = fx
        .api
        .post("/api/groups", json!({"name": "deployers"}))
        .await;
    let gid = group["id"].as_str().expect("group id");
    fx.api
        .post(
            &format!("/api/groups/{gid}/members"),
            json!({"username": username}),
        )
        .await;
    let granted = fx
        .api
        .post(
            &format!("/api/groups/{gid}/run-as"),
            json!({"account": other, "pattern": "web-*"}),
        )
        .await;
    assert_eq!(
        granted["run_as"],
        json!([{"account": other, "pattern": "web-*"}])
    );
    assert_eq!(
        member.get("/api/run-as/web-01").await["granted"],
        json!([other])
    );
    let opened = member.post("/api/websh", body).await;
    assert!(opened["id"].as_str().is_some(), "{opened}");
}

#[tokio::test]
async fn without_provisioning_a_missing_account_is_refused_with_what_to_ask_for() {
    let fx = Fixture::start(&["web-01"]).await;
    let tag = uuid_tag();
    let (member, user) = member_with_session(&fx, &format!("erin{tag}"), &["websh"]).await;
    let account = user["unix_user"].as_str().expect("unix_user").to_owned();
    let (status, body) = member
        .call(
            reqwest::Method::POST,
            "/api/websh",
            Some(json!({"server": "web-01", "cols": 80, "rows": 24})),
        )
        .await;
    if shell_user().is_none() {
        // Not root: the agent runs everything as its own user, so there is nothing to create.
        assert_eq!(status, 201, "{body}");
        return;
    }
    assert_eq!(status, 409, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&account) && message.contains("--provision-users"),
        "{body}"
    );
    assert_eq!(uid_of(&account), None, "nothing was created");
}

/// Eight hex characters, lowercase, unlikely to repeat across runs.
fn uuid_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{:08x}", nanos ^ std::process::id().rotate_left(16))
}
