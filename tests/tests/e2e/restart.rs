//! The gateway crashes and comes back; the agent reconnects and the PTY is re-attached with
//! the shell's state intact.

use crate::Fixture;
use gatehouse_e2e::terminal::Term;
use gatehouse_e2e::{free_port, wait_connected, Server};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_restarted_server_reattaches_the_live_shell() {
    let fx = Fixture::start_on(&["web-01"], free_port()).await;
    fx.session(&["websh", "sudo"], &["web-01"]).await;
    let (_, url) = fx.terminal("web-01").await;
    let mut term = Term::connect(&url, &fx.api, None).await.expect("connect");
    term.type_text("export MARK=kept-$((40+2)); echo set-$MARK\r")
        .await;
    assert!(
        term.read_until(WAIT, |t| t.text().contains("set-kept-42"))
            .await
    );
    let seen = term.end();
    term.drop_connection();

    let Fixture {
        server,
        api,
        dir,
        agents,
    } = fx;
    let port = server.port();
    server.kill();
    let server = Server::start(dir.path(), port);
    // The sign-in survives the restart (it lives in the database); the agent dials back in.
    wait_connected(&api, "web-01", true).await;

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
