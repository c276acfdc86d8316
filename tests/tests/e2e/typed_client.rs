//! The typed client (`gatehouse-client`, which `gate` and the console speak through) against a
//! real server and agent: a CLI sign-in, a work session, a command, a file both ways with its
//! SHA-256, and refusals arriving as typed errors carrying the contract's exit codes.

use crate::files::{start_with, Tree};
use gatehouse_client::api::files::FileTarget;
use gatehouse_client::api::sessions::SessionStep;
use gatehouse_client::{exit, Accepted, Client, ClientConfig};
use gatehouse_e2e::files::sha256_hex;
use gatehouse_e2e::{shell_user, PASSWORD};
use gatehouse_shared::exec::ExecRequest;
use gatehouse_shared::work_session::{CreateWorkSession, Status};
use gatehouse_shared::{ErrorCode, WorkSessionId};
use serde_json::json;

fn client(base: &str, credential: Option<&str>, session: Option<WorkSessionId>) -> Client {
    Client::new(ClientConfig {
        base_url: base.to_owned(),
        credential: credential.map(str::to_owned),
        work_session: session,
        user_agent: "gatehouse-e2e".to_owned(),
        ..ClientConfig::default()
    })
    .expect("a client")
}

#[tokio::test]
async fn typed_client_signs_in_runs_a_command_and_moves_a_file() {
    let tree = Tree::new();
    let fx = start_with(&tree, &[]).await;
    let base = fx.server.base.as_str();
    let anonymous = client(base, None, None);

    let wrong = anonymous
        .login_cli("ops", "not the password", None, "e2e")
        .await
        .expect_err("a wrong password");
    assert_eq!(wrong.api().map(|e| e.status), Some(401), "{wrong}");
    assert_eq!(wrong.exit_code(), exit::ERROR);

    let signed_in = anonymous
        .login_cli("ops", PASSWORD, None, "e2e typed client")
        .await
        .expect("a CLI sign-in");
    let secret = signed_in.access_token.as_str();
    let ops = client(base, Some(secret), None);
    assert_eq!(ops.whoami().await.expect("whoami").user.username, "ops");

    // A person's command needs a work session: the gate's refusal, exit 3.
    let echo = ExecRequest {
        servers: vec!["web-01".to_owned()],
        argv: Some(vec!["echo".to_owned(), "typed".to_owned()]),
        user: shell_user().map(str::to_owned),
        ..ExecRequest::default()
    };
    let denied = ops.exec_wait(&echo).await.expect_err("no work session");
    assert_eq!(
        denied.api().and_then(|e| e.code()),
        Some(ErrorCode::WorkSessionRequired),
        "{denied}"
    );
    assert_eq!(denied.exit_code(), exit::GATE_DENIED);

    let request: CreateWorkSession = serde_json::from_value(json!({
        "purpose": "typed client", "scopes": ["command", "webftp"], "servers": ["web-01"],
        "duration_secs": 3600,
    }))
    .expect("a request");
    let created = ops.create_work_session(&request).await.expect("created");
    let session = ops
        .transition_work_session(created.id, SessionStep::Use)
        .await
        .expect("in use");
    assert_eq!(session.status, Status::Active);

    let ops = client(base, Some(secret), Some(session.id));
    let job = match ops.exec_wait(&echo).await.expect("the command ran") {
        Accepted::Done(job) => job,
        Accepted::Pending(p) => panic!("a superuser's command waits for approval: {p:?}"),
    };
    assert_eq!(job.runs.len(), 1, "{job:?}");
    assert_eq!(job.runs[0].exit_code, Some(0), "{job:?}");
    assert_eq!(job.runs[0].stdout, "typed\n");

    // 3 MB up and down again, checked against the digest the server answers.
    let target = FileTarget {
        server: "web-01",
        user: shell_user(),
        editor: false,
    };
    let path = tree.root.join("typed.bin");
    let path = path.to_str().expect("a UTF-8 path");
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let want = sha256_hex(&body);
    let chunks: Vec<std::io::Result<Vec<u8>>> =
        body.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let stored = ops
        .upload(
            target,
            path,
            &Default::default(),
            futures_util::stream::iter(chunks),
        )
        .await
        .expect("uploaded");
    assert_eq!(
        (stored.size, stored.sha256.as_str()),
        (3_000_000, want.as_str())
    );

    let mut download = ops.download(target, path).await.expect("a download");
    assert_eq!(download.size, 3_000_000);
    let mut got = Vec::new();
    while let Some(chunk) = download.chunk().await.expect("a chunk") {
        got.extend_from_slice(chunk.as_ref());
    }
    assert_eq!(sha256_hex(&got), want);

    // An unknown id: the envelope, typed; a plain error (exit 1), not the gate's.
    let missing = ops
        .work_session(WorkSessionId::new())
        .await
        .expect_err("no such session");
    assert_eq!(missing.api().map(|e| e.status), Some(404), "{missing}");
    assert_eq!(
        missing.api().and_then(|e| e.code()),
        Some(ErrorCode::NotFound)
    );
    assert_eq!(missing.exit_code(), exit::ERROR);

    // The timeline holds the command, through the same client.
    let timeline = ops.timeline(session.id).await.expect("the timeline");
    assert!(
        timeline.items.iter().any(|e| e.kind.starts_with("exec")),
        "{:?}",
        timeline.items
    );

    // Signing out ends the credential at once.
    ops.logout().await.expect("signed out");
    let after = ops.whoami().await.expect_err("a dead credential");
    assert_eq!(after.api().map(|e| e.status), Some(401), "{after}");
}
