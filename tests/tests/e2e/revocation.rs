//! The revocation matrix: a work session that is revoked, expires or is completed ends every live
//! channel it authorized (the owner's terminal, a guest and a watcher on it, a running command)
//! within two seconds, each with its close code, its reason and its audit row. The limit is read
//! from the server's own audit timestamps, not from the test's clock.

use crate::share::{guest, share};
use crate::{session_request, Fixture};
use chrono::Utc;
use gatehouse_client::api::ops::AuditFilter;
use gatehouse_client::api::sessions::{SessionDecision, SessionStep};
use gatehouse_client::Accepted;
use gatehouse_e2e::terminal::Term;
use gatehouse_e2e::{create_user, eventually, Api};
use gatehouse_shared::audit::AuditEvent;
use gatehouse_shared::exec::{ExecJob, ExecRequest, ExecRun, RunStatus};
use gatehouse_shared::share::CreateShare;
use gatehouse_shared::work_session::CreateWorkSession;
use gatehouse_shared::WorkSessionId;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(90);

#[derive(Debug, Clone, Copy)]
pub(crate) enum Ending {
    Revoke,
    Expire,
    Complete,
}

impl Ending {
    /// The `ended` reason and the transition's audit action.
    pub(crate) fn names(self) -> (&'static str, &'static str) {
        match self {
            Ending::Revoke => ("revoked", "work_session.revoked"),
            Ending::Expire => ("expired", "work_session.expired"),
            Ending::Complete => ("completed", "work_session.completed"),
        }
    }

    /// The window a session ending this way is requested with: the shortest allowed when it is
    /// to expire, an hour otherwise.
    pub(crate) fn window_secs(self) -> i64 {
        if matches!(self, Ending::Expire) {
            60
        } else {
            3600
        }
    }

    /// Ends `session` this way (an expiry is left to the scheduler).
    pub(crate) async fn apply(self, api: &Api, session: WorkSessionId) {
        match self {
            Ending::Revoke => {
                let reason = Some("matrix".to_owned());
                api.client
                    .decide_work_session(session, SessionDecision::Revoke, reason)
                    .await
                    .expect("revoked");
            }
            Ending::Complete => {
                api.client
                    .transition_work_session(session, SessionStep::Complete)
                    .await
                    .expect("completed");
            }
            Ending::Expire => {}
        }
    }
}

/// Audit events of work session `session` (of `action` too, when given), oldest first.
async fn audit(api: &Api, session: WorkSessionId, action: Option<&str>) -> Vec<AuditEvent> {
    let filter = AuditFilter {
        work_session: Some(session.to_string()),
        action: action.map(str::to_owned),
        limit: Some(500),
        ..AuditFilter::default()
    };
    api.client
        .audit(&filter)
        .await
        .expect("the audit log")
        .items
}

/// Starts a command on web-01 that runs until something ends it.
async fn sleeping_command(fx: &Fixture) -> ExecJob {
    let request = ExecRequest {
        servers: vec!["web-01".to_owned()],
        command: "sleep 600".to_owned(),
        timeout_secs: Some(900),
        user: gatehouse_e2e::shell_user().map(str::to_owned),
        ..ExecRequest::default()
    };
    let job = match fx.api.client.exec_start(&request).await.expect("started") {
        Accepted::Done(job) => job,
        Accepted::Pending(p) => panic!("the command waits for approval: {p:?}"),
    };
    assert_eq!(job.runs[0].status, RunStatus::Running, "{job:?}");
    job
}

/// The job's run once it is no longer running.
async fn ended_run(fx: &Fixture, job: &ExecJob) -> ExecRun {
    eventually("the command to end", WAIT, || async {
        let job = fx.api.client.exec_job(job.id).await.expect("the job");
        let run = job.runs.into_iter().next()?;
        (run.status != RunStatus::Running).then_some(run)
    })
    .await
}

async fn ends_everything(ending: Ending) {
    let fx = Fixture::start(&["web-01"]).await;
    let request = CreateWorkSession {
        purpose: "matrix".to_owned(),
        duration_secs: Some(ending.window_secs()),
        ..session_request(&["websh", "command"], &["web-01"])
    };
    let ops = &fx.api.client;
    let session = ops
        .create_work_session(&request)
        .await
        .expect("a work session");
    let session_id = session.id;
    ops.transition_work_session(session_id, SessionStep::Use)
        .await
        .expect("in use");

    let (id, url) = fx.terminal("web-01").await;
    let mut owner = Term::connect(&url, &fx.api, None).await.expect("owner");
    owner.type_text("echo ready-$((1+1))\r").await;
    assert!(
        owner
            .read_until(WAIT, |t| t.text().contains("ready-2"))
            .await
    );
    let read_only = CreateShare {
        read_only: true,
        ..CreateShare::default()
    };
    let link = share(&fx, &id, read_only).await;
    let (_, mut guest) = guest(&fx, &link, "matrix").await;
    create_user(fx.dir.path(), "auditor", "staff");
    let auditor = Api::login(&fx.server.base, "auditor").await;
    let mut watcher = Term::connect(&format!("{url}?watch=true"), &auditor, None)
        .await
        .expect("watcher");
    let job = sleeping_command(&fx).await;
    for (who, term) in [("guest", &mut guest), ("watcher", &mut watcher)] {
        assert!(
            term.read_until(WAIT, |t| t.text().contains("ready-2"))
                .await,
            "the {who} sees the terminal"
        );
    }

    ending.apply(&fx.api, session_id).await;

    let (reason, transition) = ending.names();
    for (who, term) in [
        ("owner", &mut owner),
        ("guest", &mut guest),
        ("watcher", &mut watcher),
    ] {
        assert!(
            term.read_until(WAIT, |t| t.closed.is_some()).await,
            "the {who}'s stream stayed open"
        );
        assert_eq!(term.closed, Some(4010), "the {who}'s close code");
        assert_eq!(
            term.has_message("ended").map(|m| m["reason"].clone()),
            Some(json!(reason)),
            "the {who} is told why"
        );
    }
    let run = ended_run(&fx, &job).await;
    assert_eq!(run.status, RunStatus::Error, "{run:?}");
    assert!(
        run.error
            .as_deref()
            .is_some_and(|e| e.contains(&format!("work session ended ({reason})"))),
        "{run:?}"
    );

    // The server's own clock: each channel's end is recorded within two seconds of the transition.
    let events = eventually("the audit rows of every end", WAIT, || async {
        let events = audit(&fx.api, session_id, None).await;
        let has = |action: &str| events.iter().any(|e| e.action == action);
        (has(transition) && has("websh.closed") && has("exec.run")).then_some(events)
    })
    .await;
    let find = |action: &str| {
        events
            .iter()
            .find(|e| e.action == action)
            .cloned()
            .unwrap_or_else(|| panic!("no {action} row"))
    };
    let ended_at = find(transition).at;
    let closed = find("websh.closed");
    assert_eq!(closed.details["reason"], reason, "{closed:?}");
    for row in [closed, find("exec.run")] {
        let took = row.at - ended_at;
        assert!(
            took < chrono::Duration::seconds(2),
            "{} was recorded {took} after {transition}",
            row.action
        );
    }
    // The guest and the watcher leaving is on the record too.
    let left = fx.api.audit("websh.viewer_left").await;
    assert!(left.len() >= 2, "{left:?}");
}

#[tokio::test]
async fn a_revoked_session_ends_every_channel_it_authorized() {
    ends_everything(Ending::Revoke).await;
}

#[tokio::test]
async fn a_completed_session_ends_every_channel_it_authorized() {
    ends_everything(Ending::Complete).await;
}

#[tokio::test]
async fn an_expired_session_ends_every_channel_it_authorized() {
    ends_everything(Ending::Expire).await;
}

/// A revocation the broadcast never carried (written into the database by another process, as
/// a watcher that lagged behind would also miss it) still ends a running command within two
/// seconds: the watcher's sweep reads every live channel's session back from the store.
#[tokio::test]
async fn a_revocation_the_broadcast_missed_still_ends_a_running_command() {
    let fx = Fixture::start(&["web-01"]).await;
    let session = fx.session(&["command"], &["web-01"]).await;
    let job = sleeping_command(&fx).await;

    let db = fx.dir.path().join("gatehouse.db");
    let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open the database beside the server");
    let revoked_at = Utc::now();
    let changed = sqlx::query(
        "UPDATE work_sessions SET status = 'revoked', ended_at = ?, next_deadline = NULL \
         WHERE id = ?",
    )
    .bind(revoked_at.timestamp_micros())
    .bind(session.id.to_string())
    .execute(&raw)
    .await
    .expect("revoke behind the server's back");
    assert_eq!(changed.rows_affected(), 1);

    let run = ended_run(&fx, &job).await;
    assert_eq!(run.status, RunStatus::Error, "{run:?}");
    assert!(
        run.error
            .as_deref()
            .is_some_and(|e| e.contains("work session ended (revoked)")),
        "{run:?}"
    );
    let ended = eventually("the exec.run row", WAIT, || async {
        audit(&fx.api, session.id, Some("exec.run"))
            .await
            .into_iter()
            .next()
    })
    .await;
    let took = ended.at - revoked_at;
    assert!(
        took < chrono::Duration::seconds(2),
        "the command's end was recorded {took} after the revocation"
    );
}
