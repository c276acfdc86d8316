//! Root in a work session with declared root commands, against a real root agent: a declared
//! command runs as root, another is refused, and one approved by a superuser runs once, as
//! root, with its output kept for the requester.

use crate::{refused, session_request, Fixture};
use gatehouse_client::api::sessions::SessionStep;
use gatehouse_client::Accepted;
use gatehouse_e2e::{eventually, Api};
use gatehouse_shared::approval::ApprovalStatus;
use gatehouse_shared::exec::{ExecRequest, RunStatus};
use gatehouse_shared::settings::SettingsPatch;
use gatehouse_shared::work_session::{ApproveWorkSession, CreateWorkSession};
use gatehouse_shared::{ErrorCode, Scope};
use std::time::Duration;

/// A member granted web-01 with an approved, selected session declaring `sudo` commands.
async fn member(fx: &Fixture, username: &str, sudo: &[&str]) -> Api {
    let member = fx.member(username, "web-01").await;
    let request = CreateWorkSession {
        purpose: "restart".to_owned(),
        sudo_commands: sudo.iter().map(|c| (*c).to_owned()).collect(),
        ..session_request(&["command"], &["web-01"])
    };
    let session = member
        .client
        .create_work_session(&request)
        .await
        .expect("a work session");
    assert_eq!(session.scopes, [Scope::Command, Scope::Sudo], "{session:?}");
    fx.api
        .client
        .approve_work_session(session.id, &ApproveWorkSession::default())
        .await
        .expect("approved");
    member
        .client
        .transition_work_session(session.id, SessionStep::Use)
        .await
        .expect("in use");
    member
}

/// `command` on web-01 as root, waiting for its end.
fn root(command: &str) -> ExecRequest {
    ExecRequest {
        servers: vec!["web-01".to_owned()],
        command: command.to_owned(),
        user: Some("root".to_owned()),
        timeout_secs: Some(30),
        ..ExecRequest::default()
    }
}

#[tokio::test]
async fn declared_root_commands_run_and_an_approved_one_runs_once() {
    // Never skipped: run the tests as root (as CI does), since running as root needs the agent to run as root.
    assert!(
        gatehouse_e2e::is_root(),
        "this test needs root: running as root needs the agent to run as root"
    );
    let fx = Fixture::start(&["web-01"]).await;
    // Step-up has its own tests; here root needs no code.
    fx.api
        .update_settings(SettingsPatch {
            require_mfa_for_root: Some(false),
            ..SettingsPatch::default()
        })
        .await;
    let mia = member(&fx, "mia", &["id -un"]).await;

    let job = match mia.client.exec_wait(&root("id -un")).await.expect("it ran") {
        Accepted::Done(job) => job,
        Accepted::Pending(p) => panic!("a declared command waits: {p:?}"),
    };
    assert_eq!(job.runs[0].stdout, "root\n", "{job:?}");

    let outside = refused(mia.client.exec_wait(&root("id -u")).await);
    assert_eq!(outside.status, 403, "{outside}");
    assert_eq!(outside.code(), Some(ErrorCode::SudoCommandNotAllowed));

    // With standard input it could not wait: it would run when approved, with nobody attached.
    let with_stdin = ExecRequest {
        request_approval: true,
        stdin: true,
        ..root("id -u")
    };
    let invalid = refused(mia.client.exec_wait(&with_stdin).await);
    assert_eq!(invalid.status, 400, "{invalid}");
    assert_eq!(
        invalid.envelope["fields"][0]["field"], "request_approval",
        "{}",
        invalid.envelope
    );

    let asking = ExecRequest {
        request_approval: true,
        ..root("id -u")
    };
    let pending = match mia.client.exec_wait(&asking).await.expect("an answer") {
        Accepted::Pending(p) => p,
        Accepted::Done(job) => panic!("an undeclared command ran: {job:?}"),
    };
    assert_eq!(pending.exit_code, 4);
    let approval = pending.approval_id;
    // Nothing ran while it waits.
    let started = fx.api.audit("exec.started").await;
    assert_eq!(started.len(), 1, "{started:?}");

    let decided = fx
        .api
        .client
        .decide_approval(approval, true, None)
        .await
        .expect("approved");
    assert_eq!(decided.status, ApprovalStatus::Approved, "{decided:?}");
    let job = decided
        .command
        .as_ref()
        .and_then(|c| c.exec_job)
        .expect("the job that runs it");
    let ran = eventually(
        "the approved command's end",
        Duration::from_secs(30),
        || {
            let mia = &mia;
            async move {
                let got = mia.client.exec_job(job).await.expect("the job");
                (got.runs[0].status != RunStatus::Running).then_some(got)
            }
        },
    )
    .await;
    assert_eq!(ran.runs[0].status, RunStatus::Succeeded, "{ran:?}");
    assert_eq!(ran.runs[0].stdout, "0\n", "{ran:?}");
    // Approving again runs nothing.
    let again = refused(fx.api.client.decide_approval(approval, true, None).await);
    assert_eq!(again.status, 409, "{again}");
    let started = fx.api.audit("exec.started").await;
    assert_eq!(started.len(), 2, "{started:?}");
    let view = mia.client.approval(approval).await.expect("the approval");
    assert_eq!(
        view.command.and_then(|c| c.exec_job),
        Some(job),
        "{decided:?}"
    );
}
