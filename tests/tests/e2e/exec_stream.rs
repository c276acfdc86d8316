//! The exec stream against real agents: stdout and stderr apart and in order, standard input,
//! signals, a terminal, 3 MB whole while the stored capture stays bounded, resume without loss
//! or repetition, who may attach, revocation, and bad frames.

use crate::token_acl::{run_as, token_running};
use crate::{api_token, refused, Fixture};
use gatehouse_client::api::ops::AuditFilter;
use gatehouse_client::api::sessions::SessionDecision;
use gatehouse_client::Accepted;
use gatehouse_e2e::exec_stream::ExecStream;
use gatehouse_e2e::{create_user, eventually, shell_user, Api};
use gatehouse_shared::exec::{ExecJob, ExecRequest, RunStatus};
use gatehouse_shared::exec_stream::StreamName::{Stderr, Stdout};
use gatehouse_shared::ErrorCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

/// A request on `servers` with nothing else set yet.
fn on(servers: &[&str]) -> ExecRequest {
    ExecRequest {
        servers: servers.iter().map(|s| (*s).to_owned()).collect(),
        ..ExecRequest::default()
    }
}

/// `argv` on web-01, paced by its stream.
fn streamed(argv: &[&str]) -> ExecRequest {
    ExecRequest {
        argv: Some(argv.iter().map(|w| (*w).to_owned()).collect()),
        stream: true,
        ..on(&["web-01"])
    }
}

/// Starts a job (as the caller's own account) and returns its answer and stream URL.
async fn start(fx: &Fixture, request: ExecRequest) -> (ExecJob, String) {
    let request = ExecRequest {
        user: shell_user().map(str::to_owned),
        ..request
    };
    let job = match fx.api.client.exec_start(&request).await.expect("started") {
        Accepted::Done(job) => job,
        Accepted::Pending(p) => panic!("a superuser's command waits for approval: {p:?}"),
    };
    assert_eq!(job.stream_path, format!("/ws/exec/{}", job.id));
    let url = fx.server.ws_url(&job.stream_path);
    (job, url)
}

/// Starts a job and attaches to its stream.
async fn started(fx: &Fixture, request: ExecRequest) -> (ExecJob, String, ExecStream) {
    let (job, url) = start(fx, request).await;
    let stream = attach(fx, &url).await;
    (job, url, stream)
}

async fn attach(fx: &Fixture, url: &str) -> ExecStream {
    ExecStream::connect(url, &fx.api, None, &[])
        .await
        .expect("attach")
}

/// The job as stored once every run's result is written (a moment after the stream's `done`).
async fn stored(fx: &Fixture, job: &ExecJob) -> ExecJob {
    eventually("the stored result", WAIT, || async {
        let stored = fx.api.client.exec_job(job.id).await.expect("the job");
        stored
            .runs
            .iter()
            .all(|r| r.status != RunStatus::Running)
            .then_some(stored)
    })
    .await
}

fn exits(stream: &ExecStream) -> Vec<&Value> {
    stream
        .messages
        .iter()
        .filter(|m| m["t"] == "exit")
        .collect()
}

#[tokio::test]
async fn stdout_and_stderr_arrive_apart_and_in_order_then_each_exit_and_done() {
    let fx = Fixture::start(&["web-01", "web-02"]).await;
    fx.session(&["command"], &["web-01", "web-02"]).await;
    let command = "for i in 1 2 3; do echo out-$i; echo err-$i >&2; done; exit 3";
    let request = ExecRequest {
        command: command.to_owned(),
        stream: true,
        ..on(&["web-02", "web-01"])
    };
    let (job, _, mut stream) = started(&fx, request).await;
    assert_eq!(stream.until_closed(WAIT).await, Some(1000));
    let hello = &stream.messages[0];
    assert_eq!(hello["t"], "hello", "{hello}");
    assert_eq!(hello["version"], 1);
    assert_eq!(
        hello["runs"][0]["server"], "web-01",
        "runs in the job's order"
    );
    assert_eq!(hello["runs"][1]["server"], "web-02");
    for run in 0..2 {
        assert_eq!(stream.text(run, Stdout), "out-1\nout-2\nout-3\n");
        assert_eq!(stream.text(run, Stderr), "err-1\nerr-2\nerr-3\n");
    }
    let exits = exits(&stream);
    assert_eq!(exits.len(), 2, "{:?}", stream.messages);
    for exit in exits {
        assert_eq!(exit["code"], 3, "{exit}");
    }
    assert_eq!(
        stream.messages.last().map(|m| m["t"].clone()),
        Some(json!("done"))
    );
    // The stored result is the same.
    let stored = stored(&fx, &job).await;
    assert_eq!(stored.runs[0].stdout, "out-1\nout-2\nout-3\n");
    assert_eq!(stored.runs[1].exit_code, Some(3));
}

#[tokio::test]
async fn stdin_round_trips_through_cat_and_two_servers_are_refused() {
    let fx = Fixture::start(&["web-01", "web-02"]).await;
    fx.session(&["command"], &["web-01", "web-02"]).await;
    // Standard input goes to exactly one server.
    let ops = &fx.api.client;
    let two = ExecRequest {
        command: "cat".to_owned(),
        stdin: true,
        ..on(&["web-01", "web-02"])
    };
    let invalid = refused(ops.exec_start(&two).await);
    assert_eq!(invalid.status, 400, "{invalid}");
    assert_eq!(invalid.code(), Some(ErrorCode::ValidationError));
    let body = &invalid.envelope;
    assert_eq!(body["fields"][0]["field"], "stdin", "{body}");
    // A terminal's size only with a terminal.
    let sized = ExecRequest {
        command: "true".to_owned(),
        cols: Some(100),
        ..on(&["web-01"])
    };
    let invalid = refused(ops.exec_start(&sized).await);
    assert_eq!(invalid.status, 400, "{invalid}");
    let body = &invalid.envelope;
    assert_eq!(body["fields"][0]["field"], "cols", "{body}");

    let cat = ExecRequest {
        argv: Some(vec!["cat".to_owned()]),
        stdin: true,
        ..on(&["web-01"])
    };
    let (_, _, mut stream) = started(&fx, cat).await;
    stream.stdin(b"hello\n").await;
    assert!(
        stream
            .read_until(WAIT, |s| s.text(0, Stdout) == "hello\n")
            .await,
        "cat echoes its input: {:?}",
        stream.text(0, Stdout)
    );
    // Binary-safe, and in order across frames.
    let blob: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    for chunk in blob.chunks(50_000) {
        stream.stdin(chunk).await;
    }
    stream.control(json!({"t": "eof"})).await;
    assert_eq!(stream.until_closed(WAIT).await, Some(1000));
    let mut expected = b"hello\n".to_vec();
    expected.extend_from_slice(&blob);
    assert!(
        stream.bytes(0, Stdout) == expected.as_slice(),
        "cat gave back its input"
    );
    assert_eq!(exits(&stream)[0]["code"], 0);
    let told = stream
        .messages
        .iter()
        .filter(|m| m["t"] == "stdin_ack")
        .filter_map(|m| m["offset"].as_u64())
        .max();
    assert!(
        told.is_some_and(|t| t > 0 && t <= expected.len() as u64),
        "the client learns how much cat was given: {told:?}"
    );
}

#[tokio::test]
async fn int_ends_sleep_with_its_signal_status_and_tty_gives_a_terminal() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["command"], &["web-01"]).await;
    let (_, _, mut stream) = started(&fx, streamed(&["sleep", "100"])).await;
    assert!(stream.read_until(WAIT, |s| s.has("hello").is_some()).await);
    stream.control(json!({"t": "signal", "name": "INT"})).await;
    assert_eq!(stream.until_closed(WAIT).await, Some(1000));
    let exit = exits(&stream)[0].clone();
    assert_eq!(exit["code"], 130, "{exit}");
    assert_eq!(exit["signal"], 2, "{exit}");
    // On the record: who sent which signal, and what it ended.
    let sent = fx.api.audit("exec.signal").await[0].clone();
    assert_eq!(sent.actor.as_deref(), Some("ops"), "{sent:?}");
    assert_eq!(sent.details["signal"], "INT", "{sent:?}");
    assert_eq!(sent.details["servers"], json!(["web-01"]), "{sent:?}");
    let ran = eventually("the run on the record", WAIT, || async {
        fx.api.audit("exec.run").await.first().cloned()
    })
    .await;
    assert_eq!(ran.details["signal"], 2, "{ran:?}");

    // On a terminal: `tty` names a pseudo-terminal of the asked size, resize reaches it, and
    // standard input goes through the terminal.
    let terminal = ExecRequest {
        command: "tty; stty size; read line; stty size; echo got-$line".to_owned(),
        tty: true,
        stdin: true,
        cols: Some(100),
        rows: Some(33),
        ..on(&["web-01"])
    };
    let (_, _, mut stream) = started(&fx, terminal).await;
    assert!(
        stream
            .read_until(WAIT, |s| s.text(0, Stdout).contains("33 100"))
            .await,
        "{:?}",
        stream.text(0, Stdout)
    );
    assert!(stream.text(0, Stdout).contains("/dev/pts/"));
    stream
        .control(json!({"t": "resize", "cols": 120, "rows": 40}))
        .await;
    stream.stdin(b"yes\r").await;
    assert_eq!(stream.until_closed(WAIT).await, Some(1000));
    let out = stream.text(0, Stdout);
    assert!(out.contains("40 120") && out.contains("got-yes"), "{out:?}");
    assert_eq!(exits(&stream)[0]["code"], 0);
    assert_eq!(stream.text(0, Stderr), "", "a terminal has one stream");
}

#[tokio::test]
async fn three_megabytes_arrive_whole_and_a_dropped_client_resumes_exactly() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["command"], &["web-01"]).await;
    let expected: String = (1..=460_000).map(|n| format!("{n}\n")).collect();
    assert!(expected.len() > 3_000_000);
    let (job, _, mut stream) = started(&fx, streamed(&["seq", "1", "460000"])).await;
    assert_eq!(stream.until_closed(WAIT).await, Some(1000));
    let got = stream.bytes(0, Stdout);
    assert_eq!(got.len(), expected.len());
    assert_eq!(
        Sha256::digest(got),
        Sha256::digest(expected.as_bytes()),
        "every byte, in order"
    );
    assert!(stream.has("gap").is_none());
    // The stored capture keeps its head and tail only.
    let stored = stored(&fx, &job).await;
    let capture = stored.runs[0].stdout.as_str();
    assert!(capture.len() < 1_100_000, "{}", capture.len());
    assert!(capture.contains("bytes truncated"));
    assert!(capture.starts_with("1\n2\n3\n") && capture.ends_with("459999\n460000\n"));

    // Dropped mid-stream, then back with its offsets: exactly the missing bytes.
    let (_, url, mut first) = started(&fx, streamed(&["seq", "1", "460000"])).await;
    assert!(first.read_until(WAIT, |s| s.end(0, Stdout) > 300_000).await);
    let offsets = first.offsets(1);
    let head = first.bytes(0, Stdout).to_vec();
    first.drop_connection();
    let mut second = ExecStream::connect(&url, &fx.api, None, &offsets)
        .await
        .expect("reconnect");
    assert_eq!(second.until_closed(WAIT).await, Some(1000));
    assert!(second.has("gap").is_none(), "{:?}", second.messages);
    let mut all = head;
    all.extend_from_slice(second.bytes(0, Stdout));
    assert_eq!(all.len(), expected.len(), "no byte lost or repeated");
    assert!(all == expected.as_bytes());
}

#[tokio::test]
async fn only_the_owner_attaches_from_its_own_origin() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["command"], &["web-01"]).await;
    let (job, url) = start(&fx, streamed(&["sleep", "100"])).await;
    // A foreign Origin is refused before the upgrade.
    let refused = ExecStream::connect(&url, &fx.api, Some("http://evil.example"), &[])
        .await
        .err()
        .expect("refused");
    assert!(refused.contains("403"), "{refused}");
    // Another person learns nothing; nor does the owner's own token (not what started it).
    create_user(&fx.server.data_dir, "mallory", "member");
    let mallory = Api::login(&fx.server.base, "mallory").await;
    let mut theirs = ExecStream::connect(&url, &mallory, None, &[])
        .await
        .expect("upgraded");
    assert_eq!(theirs.until_closed(WAIT).await, Some(4004));
    assert!(theirs.has("hello").is_none());
    let (token, _) = api_token(&fx.api, "t").await;
    let mut by_token = ExecStream::connect_bearer(&url, &token)
        .await
        .expect("upgraded");
    assert_eq!(by_token.until_closed(WAIT).await, Some(4004));
    // A malformed resume is refused before the upgrade, with the envelope (raw: a stream's
    // URL, asked as plain HTTP).
    let (status, body) = fx
        .api
        .call(
            reqwest::Method::GET,
            &format!("/ws/exec/{}?resume_from=0:stdin:3", job.id),
            None,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["fields"][0]["field"], "resume_from", "{body}");
    // The owner from the server's own origin is fine.
    let mut mine = ExecStream::connect(&url, &fx.api, Some(&fx.server.base), &[])
        .await
        .expect("attach");
    assert!(mine.read_until(WAIT, |s| s.has("hello").is_some()).await);
    mine.control(json!({"t": "signal", "name": "KILL"})).await;
    assert_eq!(mine.until_closed(WAIT).await, Some(1000));
    assert_eq!(exits(&mine)[0]["code"], 137);
}

#[tokio::test]
async fn a_revoked_session_ends_a_running_stream_within_a_second() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["command"], &["web-01"]).await;
    let ops = &fx.api.client;
    let session_id = ops
        .whoami()
        .await
        .expect("whoami")
        .active_work_session
        .expect("the active session")
        .id;
    let (job, url, mut stream) = started(&fx, streamed(&["sleep", "100"])).await;
    assert!(stream.read_until(WAIT, |s| s.has("hello").is_some()).await);
    ops.decide_work_session(session_id, SessionDecision::Revoke, Some("stop".to_owned()))
        .await
        .expect("revoked");
    assert_eq!(stream.until_closed(WAIT).await, Some(4010));
    assert_eq!(stream.has("ended").expect("ended")["reason"], "revoked");
    assert!(
        exits(&stream)[0]["error"].is_string(),
        "{:?}",
        stream.messages
    );
    // The server's own clock: the command's end is recorded within a second of the revoke.
    let job_id = job.id;
    let of_session = AuditFilter {
        work_session: Some(session_id.to_string()),
        limit: Some(500),
        ..AuditFilter::default()
    };
    let events = eventually("the command's end on the record", WAIT, || async {
        let items = ops.audit(&of_session).await.expect("the audit").items;
        let has = |a: &str| items.iter().any(|e| e.action == a);
        (has("work_session.revoked") && has("exec.run")).then_some(items)
    })
    .await;
    let find = |action: &str| events.iter().find(|e| e.action == action).unwrap();
    let took = find("exec.run").at - find("work_session.revoked").at;
    assert!(
        took < chrono::Duration::seconds(1),
        "ended {took} after the revoke"
    );
    // Attaching again asks the gate, which refuses: the session is over.
    let mut again = attach(&fx, &url).await;
    assert_eq!(again.until_closed(WAIT).await, Some(4003), "{job_id}");
    assert!(again.has("hello").is_none());
}

#[tokio::test]
async fn bad_frames_get_a_clear_error_and_the_job_carries_on() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["command"], &["web-01"]).await;
    let request = ExecRequest {
        command: "echo started; sleep 100".to_owned(),
        stream: true,
        ..on(&["web-01"])
    };
    let (_, url) = start(&fx, request).await;
    let refusals: [(&str, Option<Vec<u8>>, u16); 4] = [
        ("{not json", None, 1008),
        (r#"{"t":"explode"}"#, None, 1008),
        ("", Some(b"stdin".to_vec()), 1008),
        ("", Some(vec![b'x'; 100 * 1024]), 1009),
    ];
    for (text, binary, code) in refusals {
        let mut bad = attach(&fx, &url).await;
        assert!(bad.read_until(WAIT, |s| s.has("hello").is_some()).await);
        match binary {
            Some(bytes) => bad.stdin(&bytes).await,
            None => bad.send_text(text.to_owned()).await,
        }
        assert_eq!(bad.until_closed(WAIT).await, Some(code), "{text}");
        let error = bad.has("error").expect("an error message");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // The job and the server carry on: a new viewer gets its output from the start.
    let mut good = attach(&fx, &url).await;
    assert!(
        good.read_until(WAIT, |s| s.text(0, Stdout) == "started\n")
            .await
    );
    good.control(json!({"t": "ping"})).await;
    assert!(good.read_until(WAIT, |s| s.has("pong").is_some()).await);
    good.control(json!({"t": "signal", "name": "TERM"})).await;
    assert_eq!(good.until_closed(WAIT).await, Some(1000));
    assert_eq!(exits(&good)[0]["code"], 143);
}

#[tokio::test]
async fn a_tokens_job_streams_only_to_that_token_and_revoking_it_ends_the_command() {
    let fx = Fixture::start(&["web-01"]).await;
    let token = token_running(&fx, &["sleep 100"]).await;
    let request = ExecRequest {
        user: run_as().map(str::to_owned),
        ..streamed(&["sleep", "100"])
    };
    let job = match token.client.exec_start(&request).await.expect("started") {
        Accepted::Done(job) => job,
        Accepted::Pending(p) => panic!("a token's command waits for approval: {p:?}"),
    };
    let url = fx.server.ws_url(&job.stream_path);
    // Its owner's sign-in is not the credential that started it.
    let mut by_cookie = attach(&fx, &url).await;
    assert_eq!(by_cookie.until_closed(WAIT).await, Some(4004));
    let mut stream = ExecStream::connect_bearer(&url, &token.secret)
        .await
        .expect("attach with the token");
    assert!(stream.read_until(WAIT, |s| s.has("hello").is_some()).await);

    fx.api.client.revoke_token(token.id).await.expect("revoked");
    assert_eq!(stream.until_closed(WAIT).await, Some(4010));
    assert_eq!(stream.has("ended").expect("ended")["reason"], "revoked");
    // The server's own clock: the command's end is recorded within a second of the revoke.
    let find = |action: &'static str| {
        let api = fx.api.clone();
        async move { api.audit(action).await.first().cloned() }
    };
    let ran = eventually("the command's end on the record", WAIT, || find("exec.run")).await;
    let revoked = find("token.revoked")
        .await
        .expect("the revoke on the record");
    let took = ran.at - revoked.at;
    assert!(
        took < chrono::Duration::seconds(1),
        "ended {took} after the revoke"
    );
    assert_eq!(ran.details["status"], "error", "{ran:?}");
}

#[tokio::test]
async fn a_stalled_viewer_holds_back_only_its_own_command() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["command"], &["web-01"]).await;
    // `yes` forever, watched by a client that reads nothing for now.
    let (_, _, mut stalled) = started(&fx, streamed(&["yes"])).await;
    // Meanwhile another command on the same agent, over the same link, streams in full.
    let expected: String = (1..=200_000).map(|n| format!("{n}\n")).collect();
    let (_, _, mut other) = started(&fx, streamed(&["seq", "1", "200000"])).await;
    assert_eq!(other.until_closed(WAIT).await, Some(1000));
    assert!(other.bytes(0, Stdout) == expected.as_bytes());
    // The stalled client was held, not skipped: once it reads, `yes` flows on without a gap.
    assert!(
        stalled
            .read_until(WAIT, |s| s.end(0, Stdout) > 4 * 1024 * 1024)
            .await
    );
    assert!(stalled.has("gap").is_none());
    assert!(stalled.bytes(0, Stdout).chunks(2).all(|c| c == b"y\n"));
    stalled
        .control(json!({"t": "signal", "name": "KILL"}))
        .await;
    assert_eq!(stalled.until_closed(WAIT).await, Some(1000));
    assert_eq!(exits(&stalled)[0]["code"], 137);
}
