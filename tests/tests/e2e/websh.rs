//! Terminals through the gateway: echo, resize, resume, flow control, revoke, Origin, recording.

use crate::{refused, Fixture};
use gatehouse_e2e::terminal::{asciinema_cat, Term};
use gatehouse_e2e::{create_user, Api};
use gatehouse_shared::ErrorCode;
use serde_json::json;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

fn contains(needle: &'static str) -> impl Fn(&Term) -> bool {
    move |t: &Term| t.text().contains(needle)
}

#[tokio::test]
async fn echo_resize_exit_and_the_recording_replays_with_asciinema() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh", "sudo"], &["web-01"]).await;
    let (id, url) = fx.terminal("web-01").await;
    let mut term = Term::connect(&url, &fx.api, None).await.expect("connect");
    term.type_text("echo hello-$((6*7))\r").await;
    assert!(
        term.read_until(WAIT, contains("hello-42")).await,
        "no echo: {}",
        term.text()
    );

    term.control(json!({"t": "resize", "cols": 100, "rows": 33}))
        .await;
    term.type_text("stty size\r").await;
    assert!(
        term.read_until(WAIT, contains("33 100")).await,
        "size not applied: {}",
        term.text()
    );

    term.type_text("exit 3\r").await;
    assert!(term.read_until(WAIT, |t| t.closed.is_some()).await);
    assert_eq!(term.closed, Some(1000));
    assert_eq!(
        term.has_message("exit").expect("an exit message")["code"],
        3
    );

    // The recording is asciicast v2 that asciinema itself replays to the same output.
    let terminal = id.parse().expect("a terminal id");
    let cast = fx
        .api
        .client
        .websh_recording(terminal)
        .await
        .expect("the recording");
    let header: serde_json::Value = serde_json::from_str(cast.lines().next().unwrap()).unwrap();
    assert_eq!(header["version"], 2);
    assert!(cast.contains("\"r\",\"100x33\""), "resize recorded");
    assert!(
        cast.contains("\"i\",\"echo hello-$((6*7))\\r\""),
        "input recorded"
    );
    let replayed = asciinema_cat(fx.dir.path(), &cast);
    assert!(
        replayed.contains("hello-42") && replayed.contains("33 100"),
        "replay: {replayed}"
    );

    // The timeline shows the terminal with its recording link.
    let whoami = fx.api.client.whoami().await.expect("whoami");
    let ws = whoami
        .active_work_session
        .expect("an active work session")
        .id;
    let timeline = fx.api.client.timeline(ws).await.expect("the timeline");
    let kinds: Vec<&str> = timeline.items.iter().map(|e| e.kind.as_str()).collect();
    assert!(
        kinds.contains(&"websh.opened") && kinds.contains(&"websh.closed"),
        "{kinds:?}"
    );
    let closed = timeline
        .items
        .iter()
        .find(|e| e.kind == "websh.closed")
        .unwrap();
    assert_eq!(closed.details["exit_code"], 3);
    assert_eq!(
        closed.details["recording"],
        format!("/api/websh/{id}/recording")
    );
}

#[tokio::test]
async fn a_dropped_client_resumes_with_exactly_the_missing_bytes() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh", "sudo"], &["web-01"]).await;
    let (_, url) = fx.terminal("web-01").await;
    let mut first = Term::connect(&url, &fx.api, None).await.expect("connect");
    first.type_text("seq 1 30000\r").await;
    assert!(first.read_until(WAIT, |t| t.output.len() > 4000).await);
    let first_end = first.end();
    let first_text = first.output.clone();
    first.drop_connection();

    let mut second = Term::connect(&format!("{url}?resume_from={first_end}"), &fx.api, None)
        .await
        .expect("reconnect");
    assert!(
        second.read_until(WAIT, contains("\r\n30000\r\n")).await,
        "the rest never came"
    );
    // Offsets were checked frame by frame; together the two halves are the whole sequence.
    let mut all = first_text;
    all.extend_from_slice(&second.output);
    let text = String::from_utf8_lossy(&all);
    let expected: String = (1..=30000).map(|n| format!("{n}\r\n")).collect();
    assert!(
        text.contains(&expected),
        "lost or duplicated output around offset {first_end}"
    );
}

#[tokio::test]
async fn yes_then_ctrl_c_stops_promptly() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh", "sudo"], &["web-01"]).await;
    let (_, url) = fx.terminal("web-01").await;
    let mut term = Term::connect(&url, &fx.api, None).await.expect("connect");
    term.type_text("yes\r").await;
    let enough = term
        .read_until(WAIT, |t| t.output.len() > 2 * 1024 * 1024)
        .await;
    assert!(enough, "only {} bytes of output arrived", term.output.len());
    let interrupted = Instant::now();
    term.type_text("\x03").await;
    term.type_text("echo stopped-$((1+1))\r").await;
    assert!(term.read_until(WAIT, contains("stopped-2")).await);
    let took = interrupted.elapsed();
    println!("yes + Ctrl-C: output stopped and the prompt answered after {took:?}");
    assert!(
        took < Duration::from_secs(1),
        "took {took:?}: flow control let too much queue up"
    );
}

#[tokio::test]
async fn revoking_the_session_cuts_the_terminal_within_a_second() {
    let fx = Fixture::start(&["web-01"]).await;
    let session = fx.session(&["websh", "sudo"], &["web-01"]).await;
    let (_, url) = fx.terminal("web-01").await;
    let mut term = Term::connect(&url, &fx.api, None).await.expect("connect");
    term.type_text("echo ready\r").await;
    assert!(term.read_until(WAIT, contains("ready")).await);
    let revoked_at = Instant::now();
    fx.revoke(session.id).await;
    assert!(term.read_until(WAIT, |t| t.closed.is_some()).await);
    let took = revoked_at.elapsed();
    println!("revoke to the terminal's close: {took:?}");
    assert_eq!(term.closed, Some(4010));
    assert_eq!(
        term.has_message("ended").expect("an ended message")["reason"],
        "revoked"
    );
    assert!(
        took < Duration::from_secs(1),
        "the terminal ended {took:?} after the revoke"
    );
    // The terminal cannot be re-attached: it ended with its session. Right after the revoke
    // the gateway may still be putting it away, when the answer is that its session ended
    // (4010); once it is gone, that no such terminal exists (4004). Both are final.
    let mut again = Term::connect(&url, &fx.api, None).await.expect("connect");
    assert!(again.read_until(WAIT, |t| t.closed.is_some()).await);
    assert!(
        matches!(again.closed, Some(4004 | 4010)),
        "re-attach closed with {:?}",
        again.closed
    );
}

#[tokio::test]
async fn a_cross_origin_upgrade_is_refused_before_upgrading() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh", "sudo"], &["web-01"]).await;
    let (_, url) = fx.terminal("web-01").await;
    let refused = Term::connect(&url, &fx.api, Some("http://evil.example"))
        .await
        .err()
        .expect("refused");
    assert!(refused.contains("403"), "{refused}");
    let own_origin = fx.server.base.clone();
    let mut term = Term::connect(&url, &fx.api, Some(&own_origin))
        .await
        .expect("same origin is fine");
    term.type_text("echo same-origin\r").await;
    assert!(term.read_until(WAIT, contains("same-origin")).await);
}

#[tokio::test]
async fn opening_a_terminal_runs_the_gate() {
    let fx = Fixture::start(&["web-01"]).await;
    let e = refused(fx.try_terminal("web-01").await);
    assert_eq!(
        (e.status, e.code()),
        (403, Some(ErrorCode::WorkSessionRequired))
    );
    fx.session(&["command"], &["web-01"]).await;
    let e = refused(fx.try_terminal("web-01").await);
    assert_eq!(
        (e.status, e.code()),
        (403, Some(ErrorCode::WorkSessionScopeNotAllowed))
    );
}

#[tokio::test]
async fn bad_frames_close_only_that_socket_and_the_terminal_cap_holds() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh", "sudo"], &["web-01"]).await;
    let (_, url) = fx.terminal("web-01").await;
    let mut good = Term::connect(&url, &fx.api, None).await.expect("connect");

    // A malformed control message closes that viewer with 1008.
    let mut bad = Term::connect(&url, &fx.api, None).await.expect("connect");
    bad.control(json!({"t": "explode"})).await;
    assert!(bad.read_until(WAIT, |t| t.closed.is_some()).await);
    assert_eq!(bad.closed, Some(1008));
    // An oversized message closes that viewer with 1009.
    let mut big = Term::connect(&url, &fx.api, None).await.expect("connect");
    big.type_text(&"x".repeat(100 * 1024)).await;
    assert!(big.read_until(WAIT, |t| t.closed.is_some()).await);
    // Read whole and refused, so the close frame arrives: 1009, never a reset.
    assert_eq!(
        big.closed,
        Some(1009),
        "an oversized message closes that viewer"
    );
    // The other viewer of the same terminal, and the server, carry on.
    good.type_text("echo still-here\r").await;
    assert!(good.read_until(WAIT, contains("still-here")).await);

    // Twenty open terminals per user; the next is refused with the envelope.
    for _ in 1..20 {
        fx.terminal("web-01").await;
    }
    let e = refused(fx.try_terminal("web-01").await);
    assert_eq!((e.status, e.code()), (429, Some(ErrorCode::RateLimited)));
}

#[tokio::test]
async fn the_owner_terminates_a_terminal_and_others_cannot() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh", "sudo"], &["web-01"]).await;
    let (id, url) = fx.terminal("web-01").await;
    let mut term = Term::connect(&url, &fx.api, None).await.expect("connect");
    term.type_text("echo ready\r").await;
    assert!(term.read_until(WAIT, contains("ready")).await);

    // A member who does not own it is told it does not exist.
    let terminal = id.parse().expect("a terminal id");
    create_user(&fx.server.data_dir, "mallory", "member");
    let mallory = Api::login(&fx.server.base, "mallory").await;
    let e = refused(mallory.client.close_websh(terminal).await);
    assert_eq!(e.status, 404, "{e}");

    fx.api
        .client
        .close_websh(terminal)
        .await
        .expect("terminated by its owner");
    assert!(term.read_until(WAIT, |t| t.closed.is_some()).await);
    assert_eq!(term.closed, Some(4011));
    assert_eq!(
        term.has_message("ended").expect("an ended message")["reason"],
        "terminated"
    );
    let e = refused(fx.api.client.close_websh(terminal).await);
    assert_eq!(e.status, 404, "a second terminate finds nothing live");
    let audit = fx.api.audit("websh.terminated").await;
    assert_eq!(audit[0].target.as_deref(), Some(id.as_str()));
}
