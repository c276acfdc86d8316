//! API tokens against a real agent: an argv runs without a shell (metacharacters are plain
//! bytes and the host stays untouched), a token's command has a clean environment, a symlink
//! inside an allowed folder that points out of it is refused by the agent itself, and a
//! service account's token runs exactly what it was granted.

use crate::{refused, terminal_request, Fixture};
use gatehouse_client::api::files::FileTarget;
use gatehouse_client::{Accepted, Client, ClientError};
use gatehouse_e2e::terminal::Term;
use gatehouse_e2e::{bearer_client, is_root, shell_user};
use gatehouse_shared::acl::api::{
    NewCommandRule, NewFileRule, NewServerRule, NewServiceAccount, RuleKind,
};
use gatehouse_shared::acl::FileAction;
use gatehouse_shared::exec::{ExecJob, ExecRequest, RunStatus};
use gatehouse_shared::share::CreateShare;
use gatehouse_shared::token::CreateApiToken;
use gatehouse_shared::websh::{close, OpenWebsh};
use gatehouse_shared::{ErrorCode, TokenId, UserId};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// An API token: the typed client acting with it, its secret (for streams) and its id.
pub(crate) struct Token {
    pub(crate) client: Client,
    pub(crate) secret: String,
    pub(crate) id: TokenId,
}

/// A token of `ops` (or of the service account `service`).
pub(crate) async fn token(fx: &Fixture, service: Option<UserId>) -> Token {
    let ask = CreateApiToken {
        name: "e2e".to_owned(),
        expires_in_days: None,
    };
    let ops = &fx.api.client;
    let created = match service {
        None => ops.create_token(&ask).await,
        Some(account) => ops.issue_service_token(account, &ask).await,
    }
    .expect("a new token");
    let client = bearer_client(&fx.server.base, Some(&created.token));
    Token {
        client,
        secret: created.token,
        id: created.id,
    }
}

/// Grants token `id` the servers matching `pattern`.
async fn grant_servers(fx: &Fixture, id: TokenId, pattern: &str) {
    let rule = NewServerRule {
        pattern: pattern.to_owned(),
    };
    fx.api
        .client
        .grant_rule(id, RuleKind::Servers, &rule)
        .await
        .expect("a server rule");
}

/// Grants token `id` `command` as [`run_as`].
async fn grant_command(fx: &Fixture, id: TokenId, command: &str) {
    let rule = NewCommandRule {
        command: command.to_owned(),
        user: run_as().map(str::to_owned),
    };
    fx.api
        .client
        .grant_rule(id, RuleKind::Commands, &rule)
        .await
        .expect("a command rule");
}

/// A token of `ops` allowed on web-01 to run each of `commands` as [`run_as`].
pub(crate) async fn token_running(fx: &Fixture, commands: &[&str]) -> Token {
    let token = token(fx, None).await;
    grant_servers(fx, token.id, "web-01").await;
    for command in commands {
        grant_command(fx, token.id, command).await;
    }
    token
}

/// Whom the token's commands run as here: the test's own account under root (an agent that
/// is root runs a token as the account its rule names), else the agent's own account.
pub(crate) fn run_as() -> Option<&'static str> {
    shell_user()
}

/// `argv` on web-01 as [`run_as`], without a shell.
fn argv<S: AsRef<str>>(words: &[S]) -> ExecRequest {
    ExecRequest {
        argv: Some(words.iter().map(|w| w.as_ref().to_owned()).collect()),
        ..line("")
    }
}

/// The command line `command` on web-01 as [`run_as`].
fn line(command: &str) -> ExecRequest {
    ExecRequest {
        servers: vec!["web-01".to_owned()],
        command: command.to_owned(),
        user: run_as().map(str::to_owned),
        ..ExecRequest::default()
    }
}

/// Runs `request` with `token`, waiting for its end.
async fn exec(token: &Token, request: &ExecRequest) -> Result<ExecJob, ClientError> {
    match token.client.exec_wait(request).await? {
        Accepted::Done(job) => Ok(job),
        Accepted::Pending(p) => panic!("a token's command waits for approval: {p:?}"),
    }
}

#[tokio::test]
async fn a_token_runs_argv_without_a_shell_and_with_a_clean_environment() {
    let fx = Fixture::start(&["web-01"]).await;
    let token = token(&fx, None).await;
    grant_servers(&fx, token.id, "web-01").await;
    grant_command(&fx, token.id, "echo *").await;
    grant_command(&fx, token.id, "env").await;

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
    let job = exec(&token, &argv(&words)).await.expect("it ran");
    let run = &job.runs[0];
    assert_eq!(run.exit_code, Some(0), "{run:?}");
    assert_eq!(run.stdout, format!("{}\n", words[1..].join(" ")));
    let left: Vec<_> = std::fs::read_dir(&markers).unwrap().collect();
    assert!(left.is_empty(), "the host was touched: {left:?}");
    assert_eq!(job.argv, Some(words));

    // The same as one command line is refused before anything runs, and audited.
    let denied = refused(exec(&token, &line(&format!("echo a; touch {}", m("line")))).await);
    assert_eq!(denied.status, 403, "{denied}");
    assert_eq!(denied.code(), Some(ErrorCode::TokenAclDenied));
    assert!(!markers.join("line").exists());
    // A plain command line is split once and runs as argv.
    let job = exec(&token, &line("echo 'two words' three"))
        .await
        .expect("it ran");
    assert_eq!(job.runs[0].stdout, "two words three\n");

    // Nothing of the gateway's or the agent's environment reaches a token's command.
    let job = exec(&token, &argv(&["env"])).await.expect("it ran");
    let mut keys: Vec<String> = job.runs[0]
        .stdout
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_owned()))
        .collect();
    keys.sort();
    assert_eq!(keys, ["HOME", "LANG", "LOGNAME", "PATH", "USER"], "{job:?}");
}

#[tokio::test]
async fn the_agent_refuses_a_symlink_that_leads_out_of_an_allowed_folder() {
    let fx = Fixture::start(&["web-01"]).await;
    let token = token(&fx, None).await;
    // Under root the token acts as root only because its rule names root; otherwise the agent
    // runs file operations as itself.
    let user = is_root().then_some("root");
    grant_servers(&fx, token.id, "web-01").await;
    let allowed = fx.dir.path().join("allowed");
    std::fs::create_dir(&allowed).unwrap();
    std::fs::write(allowed.join("ok.txt"), "inside\n").unwrap();
    std::fs::write(fx.dir.path().join("secret.txt"), "outside secret\n").unwrap();
    std::os::unix::fs::symlink(fx.dir.path().join("secret.txt"), allowed.join("escape")).unwrap();
    let rule = NewFileRule {
        path: format!("{}/**", allowed.display()),
        action: FileAction::Download,
        user: user.map(str::to_owned),
    };
    fx.api
        .client
        .grant_rule(token.id, RuleKind::Files, &rule)
        .await
        .expect("a file rule");
    let target = FileTarget {
        server: "web-01",
        user,
        editor: false,
    };

    let read = |path: std::path::PathBuf| {
        let client = &token.client;
        async move {
            let path = path.display().to_string();
            let mut download = client.download(target, &path).await?;
            let mut body = Vec::new();
            while let Some(chunk) = download.chunk().await? {
                body.extend_from_slice(chunk.as_ref());
            }
            Ok::<_, ClientError>(String::from_utf8(body).expect("text"))
        }
    };
    let body = read(allowed.join("ok.txt")).await.expect("the file");
    assert_eq!(body, "inside\n");
    // The gateway sees a path under the rule; the agent sees where it really leads.
    let escaped = refused(read(allowed.join("escape")).await);
    assert_eq!(escaped.status, 403, "{escaped}");
    assert!(
        !escaped.envelope.to_string().contains("outside secret"),
        "{}",
        escaped.envelope
    );
    assert!(escaped.message.contains("rules"), "{escaped}");
    // Outside the rule altogether, the gateway refuses first.
    let outside = refused(read(fx.dir.path().join("secret.txt")).await);
    assert_eq!(outside.status, 403, "{outside}");
    assert_eq!(outside.code(), Some(ErrorCode::TokenAclDenied));
    // The folder lists, link included (a listing never follows links).
    let listing = token
        .client
        .file_list(target, &allowed.display().to_string())
        .await
        .expect("the listing");
    let names: Vec<&str> = listing.entries.iter().map(|e| e.name.as_str()).collect();
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
        .client
        .create_service_account(&NewServiceAccount {
            name: "ci-deploy".to_owned(),
            description: None,
        })
        .await
        .expect("a service account");
    let token = token(&fx, Some(account.id)).await;
    assert!(token.secret.starts_with("ghst_"));
    let denied = refused(exec(&token, &argv(&["id", "-un"])).await);
    assert_eq!(
        (denied.status, denied.code()),
        (403, Some(ErrorCode::TokenAclDenied))
    );

    grant_servers(&fx, token.id, "web-*").await;
    grant_command(&fx, token.id, "id -un").await;
    let job = exec(&token, &argv(&["id", "-un"])).await.expect("it ran");
    let run = &job.runs[0];
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    if let Some(account) = run_as() {
        assert_eq!(run.stdout, format!("{account}\n"));
    }
    // Anything else is still refused.
    let other = refused(exec(&token, &argv(&["id"])).await);
    assert_eq!(other.status, 403);
    let runs = fx.api.audit("exec.run").await;
    assert_eq!(runs[0].actor.as_deref(), Some("svc:ci-deploy"), "{runs:?}");
}

#[tokio::test]
async fn a_token_opens_a_terminal_only_with_a_lone_star_rule_and_revoking_it_ends_it() {
    let fx = Fixture::start(&["web-01"]).await;
    let token = token(&fx, None).await;
    grant_servers(&fx, token.id, "web-01").await;
    grant_command(&fx, token.id, "uptime").await;
    let open = OpenWebsh {
        user: run_as().map(str::to_owned),
        ..terminal_request("web-01")
    };
    // A shell runs anything: a narrower command rule does not open one.
    let denied = refused(token.client.open_websh(&open).await);
    assert_eq!(
        (denied.status, denied.code()),
        (403, Some(ErrorCode::TokenAclDenied)),
        "{denied}"
    );

    grant_command(&fx, token.id, "*").await;
    let opened = token.client.open_websh(&open).await.expect("a terminal");
    let url = fx.server.ws_url(&opened.ws_path);
    // Only the token that opened it attaches: not its owner's sign-in.
    let mut by_cookie = Term::connect(&url, &fx.api, None).await.expect("connect");
    by_cookie.read_until(WAIT, |_| false).await;
    assert_eq!(by_cookie.closed, Some(close::NOT_FOUND));
    let mut term = Term::connect_bearer(&url, &token.secret)
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
    let share = refused(
        token
            .client
            .share_websh(opened.id, &CreateShare::default())
            .await,
    );
    assert_eq!(share.status, 403);
    let live = fx
        .api
        .client
        .live_terminals()
        .await
        .expect("the live terminals");
    assert_eq!(live.items[0].work_session, None, "{live:?}");

    // Revoking the token ends the terminal within the watcher's sweep.
    fx.api.client.revoke_token(token.id).await.expect("revoked");
    term.read_until(WAIT, |_| false).await;
    assert!(term.closed.is_some(), "the terminal outlived its token");
    let recording = fx
        .api
        .client
        .recording_info(opened.id)
        .await
        .expect("the recording");
    assert_eq!(recording.work_session, None);
}
