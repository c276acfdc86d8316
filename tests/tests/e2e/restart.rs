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
