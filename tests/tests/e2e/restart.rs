//! The gateway crashes and comes back; the agent reconnects and the PTY is re-attached with
//! the shell's state intact.

use crate::Fixture;
use gatehouse_e2e::terminal::Term;
use gatehouse_e2e::{free_port, wait_connected, Agent, Api, Server};
use gatehouse_shared::websh::close;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Waits until the restarted server holds terminal `id` again: the agent's hello re-attaches it
/// just after the server shows the agent connected.
async fn wait_reattached(api: &gatehouse_e2e::Api, id: &str) {
    gatehouse_e2e::eventually("the terminal to be re-attached", WAIT, || async {
        let live = api
            .client
            .live_terminals()
            .await
            .expect("the live terminals");
        live.items
            .iter()
            .any(|t| t.id.to_string() == id)
            .then_some(())
    })
    .await;
}

/// Kills the fixture's server as a crash would and starts it again on the same port and data;
/// returns once the agent is back and has re-attached terminal `id`.
async fn crash_and_restart(fx: Fixture, id: &str) -> (Server, Api, tempfile::TempDir, Vec<Agent>) {
    let fx = fx.crash_and_restart("web-01").await;
    wait_reattached(&fx.api, id).await;
    (fx.server, fx.api, fx.dir, fx.agents)
}

#[tokio::test]
async fn a_restarted_server_reattaches_the_live_shell() {
    let fx = Fixture::start_on(&["web-01"], free_port()).await;
    fx.session(&["websh", "sudo"], &["web-01"]).await;
    let (id, url) = fx.terminal("web-01").await;
    let mut term = Term::connect(&url, &fx.api, None).await.expect("connect");
    term.type_text("export MARK=kept-$((40+2)); echo set-$MARK\r")
        .await;
    assert!(
        term.read_until(WAIT, |t| t.text().contains("set-kept-42"))
            .await
    );
    let seen = term.end();
    term.drop_connection();

    let (server, api, _dir, agents) = crash_and_restart(fx, &id).await;

    let mut back = Term::connect(&format!("{url}?resume_from={seen}"), &api, None)
        .await
        .expect("reconnect");
    back.type_text("echo again-$MARK\r").await;
    assert!(
        back.read_until(WAIT, |t| t.text().contains("again-kept-42"))
            .await,
        "shell state lost: {}",
        back.text()
    );
    drop((server, agents));
}

#[tokio::test]
async fn a_detached_shell_is_killed_after_the_grace_period() {
    let mut fx = Fixture::start(&["web-01"]).await;
    // Run the agent again with a short grace period.
    let config = fx.agents[0].config.clone();
    fx.agents[0].kill();
    wait_connected(&fx.api, "web-01", false).await;
    fx.agents[0] = gatehouse_e2e::Agent::run_with_grace("web-01", &config, 2);
    wait_connected(&fx.api, "web-01", true).await;
    fx.session(&["websh", "sudo"], &["web-01"]).await;
    let (_, url) = fx.terminal("web-01").await;
    let mut term = Term::connect(&url, &fx.api, None).await.expect("connect");
    term.type_text("echo pid=$$=\r").await;
    assert!(
        term.read_until(WAIT, |t| t.text().matches("pid=").count() >= 2
            && t.text().contains("=\r\n"))
            .await
    );
    let text = term.text();
    let pid: u32 = text
        .rsplit("pid=")
        .next()
        .and_then(|rest| rest.split('=').next())
        .and_then(|p| p.trim().parse().ok())
        .expect("the shell's pid");
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());

    // The gateway goes away and does not come back; the agent lives on, and after the grace
    // period the detached shell is gone.
    let Fixture {
        server,
        agents,
        api,
        dir,
    } = fx;
    server.kill();
    gatehouse_e2e::eventually(
        "the detached shell to be killed",
        Duration::from_secs(30),
        || async { (!std::path::Path::new(&format!("/proc/{pid}")).exists()).then_some(()) },
    )
    .await;
    let mut agents = agents;
    assert!(
        agents[0].is_running(),
        "the agent itself keeps running and retrying"
    );
    drop((agents, api, dir));
}

/// The output events of an asciicast recording, joined.
fn recorded_output(cast: &str) -> String {
    cast.lines()
        .skip(1)
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event[1] == "o")
        .filter_map(|event| event[2].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_gateway_killed_mid_output_records_exactly_what_viewers_received() {
    let fx = Fixture::start_on(&["web-01"], free_port()).await;
    fx.session(&["websh"], &["web-01"]).await;
    let (id, url) = fx.terminal("web-01").await;
    let mut first = Term::connect(&url, &fx.api, None).await.expect("connect");
    first.type_text("seq 1 150000; echo done-$((6*7))\r").await;
    // Part of the output, then the viewer stops reading: the shell is held mid-output.
    assert!(first.read_until(WAIT, |t| t.end() > 200_000).await);
    let seen = first.end();
    assert!(
        !first.text().contains("done-42"),
        "the output was not over yet"
    );

    let (server, api, dir, agents) = crash_and_restart(fx, &id).await;

    let mut second = Term::connect(&format!("{url}?resume_from={seen}"), &api, None)
        .await
        .expect("resume");
    assert!(
        second
            .read_until(WAIT, |t| t.text().contains("done-42"))
            .await,
        "the output did not resume: {} bytes after {seen}",
        second.output.len()
    );
    let received = format!("{}{}", first.text(), second.text());

    // What the recording holds is exactly what the viewers were sent, byte for byte.
    let cast = api.recording_with(&id, "done-42").await;
    let recorded = recorded_output(&cast);
    let upto = received.len().min(recorded.len());
    assert_eq!(
        &recorded[..upto],
        &received[..upto],
        "the recording differs from what viewers received"
    );
    assert!(
        recorded.len() >= received.len(),
        "the recording lost output"
    );
    drop((server, agents, dir));
}

#[tokio::test]
async fn a_viewer_is_told_to_retry_until_the_agent_is_back() {
    let fx = Fixture::start_on(&["web-01"], free_port()).await;
    fx.session(&["websh", "sudo"], &["web-01"]).await;
    let (id, url) = fx.terminal("web-01").await;
    let mut term = Term::connect(&url, &fx.api, None).await.expect("connect");
    term.type_text("echo up-$((40+2))\r").await;
    assert!(term.read_until(WAIT, |t| t.text().contains("up-42")).await);
    term.drop_connection();

    // The gateway comes back on another port, where the agent does not look for it: the
    // terminal is alive on its server, but not attachable yet.
    let Fixture {
        server,
        api,
        dir,
        agents,
    } = fx;
    let port = server.port();
    server.kill();
    let elsewhere = Server::start(dir.path(), free_port());
    let there = Api::login(&elsewhere.base, "ops").await;
    let mut waiting = Term::connect(&elsewhere.ws_url(&format!("/ws/websh/{id}")), &there, None)
        .await
        .expect("connect");
    waiting.read_until(WAIT, |_| false).await;
    assert_eq!(waiting.closed, Some(close::AGENT_PENDING));
    // A terminal that never existed is still simply not found.
    let unknown = elsewhere.ws_url("/ws/websh/00000000-0000-4000-8000-000000000000");
    let mut nothing = Term::connect(&unknown, &there, None)
        .await
        .expect("connect");
    nothing.read_until(WAIT, |_| false).await;
    assert_eq!(nothing.closed, Some(close::NOT_FOUND));
    elsewhere.kill();

    // Back where the agent dials: the same shell, nothing lost.
    let server = Server::start(dir.path(), port);
    wait_connected(&api, "web-01", true).await;
    wait_reattached(&api, &id).await;
    let mut back = Term::connect(&url, &api, None).await.expect("reconnect");
    assert!(back.read_until(WAIT, |t| t.text().contains("up-42")).await);
    drop((server, agents));
}
