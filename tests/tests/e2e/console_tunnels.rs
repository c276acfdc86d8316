//! Tunnels in the console: staff edit a server entry's `tunnel_allow` (a bad rule is refused at
//! once, nothing saved); a session's page lists its live tunnel with connections and bytes, the
//! oversight page lists everyone's, and "End" ends it: the `gate tunnel` carrying it exits.

use crate::console::Console;
use gatehouse_e2e::browser::run_ui_test;
use gatehouse_e2e::gate::Gate;
use gatehouse_e2e::tunnel::{half_close_server, TunnelGate};
use gatehouse_e2e::{eventually, PASSWORD};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn console_tunnels_list_end_and_allow_rules() {
    let cx = Console::start(&[], &["web-01"]).await;
    let servers = cx.api().client.servers(None).await.expect("the servers");
    let server_id = servers.items[0].id;

    // A tunnel carried by `gate`, with one connection held open.
    let gate = Gate::new();
    gate.login_password(&cx.server.base, "ops", PASSWORD).await;
    let made = gate.use_session(&["--scope", "tunnel"], "web-01").await;
    let session = made["id"].as_str().expect("id").to_owned();
    let echo = half_close_server().await;
    let mut tunnel = TunnelGate::start(
        &gate,
        &["tunnel", "web-01", "-l", "0", "-r", &echo.to_string()],
    )
    .await;
    let mut held = TcpStream::connect(("127.0.0.1", tunnel.port))
        .await
        .expect("connect");
    held.write_all(b"hello").await.expect("send");

    let ops = cx.signed_in("ops").await;
    run_ui_test(
        "console_tunnels_list_end_and_allow_rules",
        &cx.driver,
        async {
            // The server entry's rules: a bad one is refused and nothing changes; good ones save.
            ops.goto(&format!("/servers/{server_id}")).await;
            ops.wait_for("[data-testid=tunnel-allow]").await;
            ops.fill("[data-testid=tunnel-allow]", "*:*").await;
            ops.click("[data-testid=tunnel-allow-save]").await;
            ops.wait_for(".error").await;
            ops.fill("[data-testid=tunnel-allow]", "127.0.0.1:*\n10.0.0.5:5432")
                .await;
            ops.click("[data-testid=tunnel-allow-save]").await;
            ops.wait_for("[data-testid=tunnel-allow-saved]").await;
            let entry = cx
                .api()
                .client
                .server(server_id)
                .await
                .expect("the server entry");
            assert_eq!(entry.tunnel_allow, ["127.0.0.1:*", "10.0.0.5:5432"]);

            // Everyone's tunnels on the oversight page, with the open connection counted.
            ops.goto("/live").await;
            ops.wait_text("[data-testid=tunnel-connections]", "1 open / 1")
                .await;

            // The session's page lists its tunnel; End ends it and the carrying gate exits.
            ops.goto(&format!("/sessions/{session}")).await;
            ops.wait_text("[data-testid=tunnel-connections]", "1 open / 1")
                .await;
            ops.click("[data-testid=tunnel-end]").await;
            ops.wait_for("[data-testid=tunnels-empty]").await;
        },
    )
    .await;
    let code = tunnel.exit_within(Duration::from_secs(5)).await;
    assert_eq!(code, Some(1), "{}", tunnel.stderr());
    eventually(
        "the tunnel gone from the list",
        Duration::from_secs(5),
        || async {
            let live = cx.api().client.tunnels(None).await.expect("the tunnels");
            (live.total == 0).then_some(())
        },
    )
    .await;
}
