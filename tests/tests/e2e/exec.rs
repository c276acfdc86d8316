//! One command across two agents, each with its own exit code, behind the gate.

use crate::{refused, Fixture};
use gatehouse_client::Accepted;
use gatehouse_shared::exec::{ExecJob, ExecRequest, RunStatus};
use gatehouse_shared::ErrorCode;

/// `command` on `servers`.
fn exec(servers: &[&str], command: &str) -> ExecRequest {
    ExecRequest {
        servers: servers.iter().map(|s| (*s).to_owned()).collect(),
        command: command.to_owned(),
        ..ExecRequest::default()
    }
}

/// Runs `request` as `ops` and waits for every run to end.
async fn run_to_end(fx: &Fixture, request: &ExecRequest) -> ExecJob {
    match fx
        .api
        .client
        .exec_wait(request)
        .await
        .expect("the command ran")
    {
        Accepted::Done(job) => job,
        Accepted::Pending(p) => panic!("a superuser's command waits for approval: {p:?}"),
    }
}

#[tokio::test]
async fn exec_fans_out_and_reports_each_exit_code() {
    let fx = Fixture::start(&["web-01", "web-02"]).await;
    fx.session(&["command", "sudo"], &["web-01", "web-02"])
        .await;
    // Both agents share this machine: the first to create the marker exits 0, the other 5. The
    // commands run as the caller's own account, so the marker's directory is open to it.
    let markers = fx.dir.path().join("markers");
    std::fs::create_dir(&markers).unwrap();
    std::fs::set_permissions(
        &markers,
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let marker = markers.join("taken");
    let command = format!(
        "echo out-$((40+2)); echo err-line >&2; mkdir {} 2>/dev/null && exit 0 || exit 5",
        marker.display()
    );
    let job = run_to_end(
        &fx,
        &ExecRequest {
            timeout_secs: Some(30),
            ..exec(&["web-01", "web-02"], &command)
        },
    )
    .await;
    let runs = &job.runs;
    assert_eq!(runs.len(), 2);
    let mut codes: Vec<i32> = runs.iter().map(|r| r.exit_code.unwrap()).collect();
    codes.sort();
    assert_eq!(codes, [0, 5]);
    for run in runs {
        assert_eq!(run.stdout, "out-42\n");
        assert_eq!(run.stderr, "err-line\n");
        assert!(run.duration_ms.is_some());
        let expected = if run.exit_code == Some(0) {
            RunStatus::Succeeded
        } else {
            RunStatus::Failed
        };
        assert_eq!(run.status, expected);
    }
    let again = fx.api.client.exec_job(job.id).await.expect("the job");
    assert_eq!(again, job);

    // A timeout kills the command and says so.
    let slow = run_to_end(
        &fx,
        &ExecRequest {
            timeout_secs: Some(1),
            ..exec(&["web-01"], "sleep 30")
        },
    )
    .await;
    assert_eq!(slow.runs[0].status, RunStatus::TimedOut);

    // A server outside the session: nothing runs at all.
    let outside = refused(
        fx.api
            .client
            .exec_start(&exec(&["web-01", "db-09"], "true"))
            .await,
    );
    assert_eq!(outside.status, 403);
    assert_eq!(outside.code(), Some(ErrorCode::WorkSessionServerNotAllowed));

    // Run-as another user: a root agent drops privileges in the child; an unprivileged one says
    // clearly that it cannot.
    let as_nobody = run_to_end(
        &fx,
        &ExecRequest {
            user: Some("nobody".to_owned()),
            ..exec(&["web-01"], "id -un")
        },
    )
    .await;
    let run = &as_nobody.runs[0];
    let agent_is_root = gatehouse_e2e::is_root();
    if agent_is_root {
        assert_eq!(run.stdout, "nobody\n", "{run:?}");
    } else {
        assert_eq!(run.status, RunStatus::Error);
        assert!(
            run.error.as_deref().unwrap().contains("can only run as"),
            "{run:?}"
        );
    }

    // Runs that end together are stored in one write, their events appended in one statement:
    // each still names its own server and exit, and the chain holds event by event.
    let events = fx.api.audit("exec.run").await;
    assert_eq!(events.len(), 4);
    let job_id = job.id.to_string();
    let mut fanned: Vec<(String, i64)> = events
        .iter()
        .filter(|e| e.target.as_deref() == Some(job_id.as_str()))
        .map(|e| {
            let code = e.details["exit_code"].as_i64().expect("an exit code");
            (e.server.clone().expect("a server"), code)
        })
        .collect();
    fanned.sort();
    let mut expected: Vec<(String, i64)> = runs
        .iter()
        .map(|r| (r.server.clone(), i64::from(r.exit_code.unwrap())))
        .collect();
    expected.sort();
    assert_eq!(fanned, expected);
    let verified = fx.api.client.audit_verify().await.expect("verify");
    assert!(verified.ok, "{verified:?}");
}
