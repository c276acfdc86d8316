//! The revocation matrix for file transfers: a work session that is revoked, expires or is
//! completed cuts an upload and a download in flight within two seconds (read from the server's
//! own audit timestamps), each failing with the session's end as its reason, and the upload
//! leaves nothing behind.

use crate::files::{as_user, download_started, give_to_run_as, sparse_file, start_with, Tree};
use crate::revocation::Ending;
use crate::session_request;
use gatehouse_client::api::sessions::SessionStep;
use gatehouse_e2e::eventually;
use gatehouse_e2e::files::{q, read_body, Pattern};
use gatehouse_shared::audit::AuditEvent;
use gatehouse_shared::work_session::CreateWorkSession;
use reqwest::Method;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(90);

/// The newest failed event of `action`, once its error names `reason`.
async fn failed(fx: &crate::Fixture, action: &str, reason: &str) -> AuditEvent {
    eventually(&format!("the cut {action} event"), WAIT, || async {
        let last = fx.api.audit(action).await.pop()?;
        let error = last.details["error"].as_str()?;
        (last.outcome == "failure" && error.contains(reason)).then_some(last)
    })
    .await
}

async fn cuts_transfers(ending: Ending) {
    let tree = Tree::new();
    let fx = start_with(&tree, &[]).await;
    let request = CreateWorkSession {
        purpose: "transfer matrix".to_owned(),
        duration_secs: Some(ending.window_secs()),
        ..session_request(&["webftp"], &["web-01"])
    };
    let session = fx
        .api
        .client
        .create_work_session(&request)
        .await
        .expect("a work session");
    let id = session.id;
    fx.api
        .client
        .transition_work_session(id, SessionStep::Use)
        .await
        .expect("in use");

    // A download whose first bytes arrived, the rest left unread.
    let big = tree.root.join("big.bin");
    sparse_file(&big, 256 * 1024 * 1024);
    give_to_run_as(&big);
    let download = download_started(&fx, &big).await;

    // An upload that sends 4 MiB, then waits for more that never comes (raw: whether its
    // request is answered or its connection cut, the wire is what is checked).
    let dir = tree.root.join("up");
    std::fs::create_dir(&dir).unwrap();
    give_to_run_as(&dir);
    let dest = dir.join("half.bin").display().to_string();
    let (more_tx, more_rx) = tokio::sync::oneshot::channel::<()>();
    let pattern = Pattern::default();
    let body = futures_util::stream::unfold((0u64, Some(more_rx)), move |(i, mut more)| {
        let pattern = pattern.clone();
        async move {
            if i < 4 {
                return Some((
                    Ok::<_, std::io::Error>(pattern.chunk(i, 1024 * 1024)),
                    (i + 1, more),
                ));
            }
            // Never sent: the transfer is held open until the session's end cuts it.
            if let Some(rx) = more.take() {
                let _ = rx.await;
            }
            None
        }
    });
    let url = format!("/api/files/web-01/content?path={}{}", q(&dest), as_user());
    let request = fx
        .api
        .request(Method::PUT, &url)
        .body(reqwest::Body::wrap_stream(body));
    let upload = tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) });
    eventually("the agent's temporary file", WAIT, || {
        let dir = dir.clone();
        async move { (!Tree::names(&dir).is_empty()).then_some(()) }
    })
    .await;

    ending.apply(&fx.api, id).await;

    let (reason, transition) = ending.names();
    let up = failed(&fx, "file.upload", reason).await;
    let down = failed(&fx, "file.download", reason).await;
    assert_eq!(up.details["path"], dest.as_str(), "{up:?}");
    let ended = eventually("the transition's row", WAIT, || async {
        fx.api.audit(transition).await.pop()
    })
    .await;
    for row in [&up, &down] {
        let took = row.at - ended.at;
        assert!(
            took < chrono::Duration::seconds(2),
            "{} was cut {took} after {transition}",
            row.action
        );
    }

    // The upload's request ends (refused, or its connection cut) and leaves nothing behind.
    let answered = tokio::time::timeout(WAIT, upload)
        .await
        .expect("the upload request ends")
        .expect("the upload task");
    assert!(
        !matches!(answered, Ok(200..=299)),
        "the upload succeeded after the session ended: {answered:?}"
    );
    eventually("the partial upload to be removed", WAIT, || {
        let dir = dir.clone();
        async move { Tree::names(&dir).is_empty().then_some(()) }
    })
    .await;
    // The download's body ends short.
    let got = tokio::time::timeout(WAIT, read_body(download, |_| {}))
        .await
        .expect("the download ends");
    assert!(got.error.is_some(), "the download went on after the end");
    assert!(got.size < 256 * 1024 * 1024);
    drop(more_tx);
}

#[tokio::test]
async fn a_revoked_session_cuts_its_uploads_and_downloads() {
    cuts_transfers(Ending::Revoke).await;
}

#[tokio::test]
async fn a_completed_session_cuts_its_uploads_and_downloads() {
    cuts_transfers(Ending::Complete).await;
}

#[tokio::test]
async fn an_expired_session_cuts_its_uploads_and_downloads() {
    cuts_transfers(Ending::Expire).await;
}
