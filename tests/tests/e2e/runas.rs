//! Every person runs as their own account: a member who names no account gets their own
//! (created on first use by an agent run with `--provision-users`, and audited), another
//! account needs a group's run-as grant or `sudo`, and without provisioning a missing account
//! is refused with a message saying what to ask for.

use crate::{new_member, refused, session_request, terminal_request, Fixture};
use gatehouse_client::api::sessions::SessionStep;
use gatehouse_client::Accepted;
use gatehouse_e2e::terminal::Term;
use gatehouse_e2e::{shell_user, uid_of, wait_connected, Agent, Api};
use gatehouse_shared::api::RunAsGrant;
use gatehouse_shared::exec::ExecRequest;
use gatehouse_shared::websh::OpenWebsh;
use gatehouse_shared::work_session::{ApproveWorkSession, CreateWorkSession};
use gatehouse_shared::{ErrorCode, User};
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
async fn member_with_session(fx: &Fixture, username: &str, scopes: &[&str]) -> (Api, User) {
    let ops = &fx.api.client;
    let user = ops
        .create_user(&new_member(username))
        .await
        .expect("a new member");
    ops.grant_user_servers(user.id, "web-01")
        .await
        .expect("web-01 granted");
    let member = Api::login(&fx.server.base, username).await;
    let request = CreateWorkSession {
        purpose: "own account".to_owned(),
        ..session_request(scopes, &["web-01"])
    };
    let session = member
        .client
        .create_work_session(&request)
        .await
        .expect("a work session");
    ops.approve_work_session(session.id, &ApproveWorkSession::default())
        .await
        .expect("approved");
    member
        .client
        .transition_work_session(session.id, SessionStep::Use)
        .await
        .expect("in use");
    (member, user)
}

/// A terminal on web-01 as `user` (`None`: the caller's own account).
fn open(user: Option<&str>) -> OpenWebsh {
    OpenWebsh {
        user: user.map(str::to_owned),
        ..terminal_request("web-01")
    }
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
    let account = user.unix_user.clone();
    assert_eq!(account, format!("dana_{tag}_example_com"));
    let _guard = AccountGuard(account.clone());
    assert_eq!(uid_of(&account), None, "the account must not exist yet");

    // Whom the console offers: their own account, nothing granted yet.
    let choices = member
        .client
        .run_as_choices("web-01")
        .await
        .expect("the run-as choices");
    assert_eq!(
        choices.own.as_deref(),
        Some(account.as_str()),
        "{choices:?}"
    );
    assert!(choices.granted.is_empty(), "{choices:?}");
    assert!(choices.agent_is_root, "{choices:?}");

    // A terminal that names no account runs as theirs, created for it.
    let opened = member
        .client
        .open_websh(&open(None))
        .await
        .expect("a terminal");
    let url = fx.server.ws_url(&opened.ws_path);
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
    let created = fx.api.audit("agent.user_provisioned").await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].target.as_deref(), Some(account.as_str()));
    assert_eq!(created[0].server.as_deref(), Some("web-01"));

    // A command and a file too: as the same account, and the file is theirs on disk.
    let request = ExecRequest {
        servers: vec!["web-01".to_owned()],
        command: "id -un".to_owned(),
        ..ExecRequest::default()
    };
    let job = match member.client.exec_wait(&request).await.expect("it ran") {
        Accepted::Done(job) => job,
        Accepted::Pending(p) => panic!("a member's own command waits: {p:?}"),
    };
    assert_eq!(job.runs[0].stdout, format!("{account}\n"), "{job:?}");
    let home = format!("/home/{account}");
    let path = format!("{home}/hello.txt");
    // Raw: the typed `upload` sends no CSRF header, which a browser sign-in's PUT needs.
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
        fx.api.audit("agent.user_provisioned").await.len(),
        1,
        "created once"
    );

    // Another account: refused without sudo or a grant, allowed once a group grants it.
    let other = shell_user().expect("root");
    let as_other = open(Some(other));
    let denied = refused(member.client.open_websh(&as_other).await);
    assert_eq!(denied.status, 403, "{denied}");
    assert_eq!(denied.code(), Some(ErrorCode::WorkSessionScopeNotAllowed));
    assert!(denied.message.contains("sudo"), "{denied}");
    let ops = &fx.api.client;
    let group = ops.create_group("deployers").await.expect("a group");
    ops.add_group_member(&group.id.to_string(), &username)
        .await
        .expect("a member of the group");
    let grant = RunAsGrant {
        account: other.to_owned(),
        pattern: "web-*".to_owned(),
    };
    let granted = ops
        .grant_group_run_as(&group.id.to_string(), &grant)
        .await
        .expect("granted");
    assert_eq!(granted.run_as, [grant]);
    let choices = member
        .client
        .run_as_choices("web-01")
        .await
        .expect("the run-as choices");
    assert_eq!(choices.granted, [other]);
    member
        .client
        .open_websh(&as_other)
        .await
        .expect("a terminal as the granted account");
}

#[tokio::test]
async fn without_provisioning_a_missing_account_is_refused_with_what_to_ask_for() {
    let fx = Fixture::start(&["web-01"]).await;
    let tag = uuid_tag();
    let (member, user) = member_with_session(&fx, &format!("erin{tag}"), &["websh"]).await;
    let account = user.unix_user;
    let opened = member.client.open_websh(&open(None)).await;
    if shell_user().is_none() {
        // Not root: the agent runs everything as its own user, so there is nothing to create.
        opened.expect("a terminal");
        return;
    }
    let missing = refused(opened);
    assert_eq!(missing.status, 409, "{missing}");
    let message = &missing.message;
    assert!(
        message.contains(&account) && message.contains("--provision-users"),
        "{missing}"
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
