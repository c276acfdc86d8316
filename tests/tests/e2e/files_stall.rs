//! File transfers whose client stalls: an upload that stops sending and a download that stops
//! being read are cut after `--file-stall-secs`, audited as such, and free their agent worker.

use crate::files::{
    as_user, download_started, give_to_run_as, put, sparse_file, start_with, Tree, WAIT,
};
use crate::Fixture;
use futures_util::StreamExt;
use gatehouse_client::api::files::Upload;
use gatehouse_e2e::files::{q, read_body};
use gatehouse_e2e::{eventually, Agent};
use gatehouse_shared::audit::AuditEvent;
use reqwest::Method;

/// The agent's `file-worker` processes: its children whose command line names the worker.
fn file_workers(agent: &Agent) -> usize {
    let parent = agent.pid().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let dir = e.path();
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
            // `pid (comm) state ppid ...`: the fields after the last ')'.
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().nth(1));
            let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            ppid == Some(parent.as_str())
                && cmdline.split(|b| *b == 0).any(|arg| arg == b"file-worker")
        })
        .count()
}

/// Waits for the newest `action` audit row and checks it records a transfer cut for stalling.
async fn stalled_transfer_audited(fx: &Fixture, action: &str) -> AuditEvent {
    let event = eventually("the stalled transfer's audit event", WAIT, || async {
        fx.api.audit(action).await.pop()
    })
    .await;
    assert_eq!(event.outcome, "failure", "{event:?}");
    assert_eq!(event.details["interrupted"], true, "{event:?}");
    let error = event.details["error"].as_str().unwrap_or_default();
    assert!(error.contains("stalled"), "{event:?}");
    event
}

#[tokio::test]
async fn a_client_that_stalls_is_cut_and_frees_its_agent_worker() {
    let tree = Tree::new();
    let fx = start_with(&tree, &["--file-stall-secs", "1"]).await;
    fx.session(&["webftp"], &["web-01"]).await;
    let dir = tree.root.join("up");
    std::fs::create_dir(&dir).unwrap();
    give_to_run_as(&dir);

    // An upload that sends 1 MiB and then nothing, without ending its body (raw: the request is
    // left hanging and aborted).
    let dest = dir.join("stalled.bin").display().to_string();
    let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(vec![7u8; 1024 * 1024])])
        .chain(futures_util::stream::pending());
    let url = format!("/api/files/web-01/content?path={}{}", q(&dest), as_user());
    let request = fx
        .api
        .request(Method::PUT, &url)
        .body(reqwest::Body::wrap_stream(stream))
        .send();
    let stalled = tokio::spawn(request);
    stalled_transfer_audited(&fx, "file.upload").await;
    eventually(
        "the stalled upload's worker and temporary file to go",
        WAIT,
        || {
            let dir = dir.clone();
            let agent = &fx.agents[0];
            async move { (Tree::names(&dir).is_empty() && file_workers(agent) == 0).then_some(()) }
        },
    )
    .await;
    stalled.abort();

    // A download whose client takes one chunk and then stops reading, connection still open.
    let big = tree.root.join("big.bin");
    sparse_file(&big, 64 * 1024 * 1024);
    let r = download_started(&fx, &big).await;
    assert_eq!(file_workers(&fx.agents[0]), 1, "the download's worker runs");
    let event = stalled_transfer_audited(&fx, "file.download").await;
    assert!(event.details["bytes"].as_u64().unwrap() < 64 * 1024 * 1024);
    eventually("the stalled download's worker to go", WAIT, || {
        let agent = &fx.agents[0];
        async move { (file_workers(agent) == 0).then_some(()) }
    })
    .await;
    // The client, reading again, finds the body cut short.
    let got = tokio::time::timeout(WAIT, read_body(r, |_| {}))
        .await
        .expect("the body ends");
    assert!(got.error.is_some(), "a stalled download completed: {got:?}");

    // The agent serves the next transfer as usual.
    put(&fx, &dest, &Upload::default(), b"after".to_vec())
        .await
        .expect("the next upload");
}
