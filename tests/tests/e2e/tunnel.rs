//! `gate tunnel` end to end: real TCP services on loopback behind a real agent, reached through
//! the built `gate` signed in as a person inside a work session. Bulk bytes arrive identical,
//! many connections run side by side, half-close works, one connection failing leaves the
//! tunnel up, the three policies (session ports, the server entry, the agent's own flag) refuse
//! what they must, a revoke ends everything within a second, a gateway restart is ridden out
//! with the local port kept, and keystrokes on the same agent stay quick during a bulk transfer.

use crate::Fixture;
use gatehouse_e2e::gate::Gate;
use gatehouse_e2e::terminal::Term;
use gatehouse_e2e::tunnel::{
    half_close_server, http_get, http_server, sha256_hex, wait_refused, TunnelGate,
};
use gatehouse_e2e::{eventually, free_port, wait_connected, Agent, PASSWORD};
use gatehouse_shared::audit::AuditEvent;
use gatehouse_shared::server::UpdateServer;
use gatehouse_shared::tunnel::CreateTunnel;
use gatehouse_shared::WorkSessionId;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The audited ends of tunnel connections, once their number satisfies `enough`.
async fn closed_connections(fx: &Fixture, enough: impl Fn(usize) -> bool) -> Vec<AuditEvent> {
    eventually(
        "the connections' ends audited",
        Duration::from_secs(10),
        || async {
            let items = fx.api.audit("tunnel.connection_closed").await;
            enough(items.len()).then_some(items)
        },
    )
    .await
}

/// `ops` signed in to a `gate` by password, with an active session of `flags` on web-01 in use;
/// the session's id.
async fn signed_in(fx: &Fixture, flags: &str) -> (Gate, WorkSessionId) {
    let gate = Gate::new();
    gate.login_password(&fx.server.base, "ops", PASSWORD).await;
    let mut args = vec!["--scope", "tunnel"];
    args.extend(flags.split_whitespace());
    let session = gate.use_session(&args, "web-01").await;
    assert_eq!(session["status"], "active", "{session}");
    let id = session["id"].as_str().expect("the session's id");
    (gate, id.parse().expect("a work session id"))
}

/// `gate tunnel web-01 -l 0 -r PORT`, once it listens.
async fn tunnel_to(gate: &Gate, port: u16) -> TunnelGate {
    let port = port.to_string();
    TunnelGate::start(gate, &["tunnel", "web-01", "-l", "0", "-r", &port]).await
}

#[tokio::test]
async fn tunnel_carries_64_mib_identical_and_100_connections_50_at_a_time() {
    let fx = Fixture::start(&["web-01"]).await;
    let (gate, _) = signed_in(&fx, "").await;
    let body: Vec<u8> = (0..64u32 * 1024 * 1024)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let want = sha256_hex(&body);
    let service = http_server(Arc::new(body)).await;
    let tunnel = tunnel_to(&gate, service).await;

    let got = http_get(tunnel.port).await.expect("download");
    assert_eq!(got.len(), 64 * 1024 * 1024, "{}", tunnel.stderr());
    assert_eq!(sha256_hex(&got), want, "the bytes changed on the way");

    // 100 connections, 50 at a time, each a whole HTTP exchange.
    let small = http_server(Arc::new(b"hello through the tunnel".to_vec())).await;
    let tunnel = tunnel_to(&gate, small).await;
    let port = tunnel.port;
    for batch in 0..2 {
        let gets: Vec<_> = (0..50).map(|_| tokio::spawn(http_get(port))).collect();
        for (i, get) in gets.into_iter().enumerate() {
            let got = get.await.expect("task").unwrap_or_else(|e| {
                panic!("batch {batch} connection {i}: {e}: {}", tunnel.stderr())
            });
            assert_eq!(got, b"hello through the tunnel");
        }
    }
    // Every connection is audited as it ends, with its bytes and its peer.
    let closed = closed_connections(&fx, |n| n >= 101).await;
    assert!(closed
        .iter()
        .any(|e| e.details["bytes_down"].as_u64() > Some(64 * 1024 * 1024)));
    assert!(closed.iter().all(|e| e.details["peer"].is_string()));
}

#[tokio::test]
async fn tunnel_passes_half_close_and_outlives_a_refused_connection() {
    let fx = Fixture::start(&["web-01"]).await;
    let (gate, _) = signed_in(&fx, "").await;
    let echo = half_close_server().await;
    let tunnel = tunnel_to(&gate, echo).await;

    // The client shuts its sending side and still gets the reply.
    let mut s = TcpStream::connect(("127.0.0.1", tunnel.port))
        .await
        .expect("connect");
    s.write_all(&[7u8; 100_000]).await.expect("send");
    s.shutdown().await.expect("half-close");
    let mut reply = String::new();
    s.read_to_string(&mut reply).await.expect("reply");
    assert_eq!(reply, "got 100000 bytes", "{}", tunnel.stderr());

    // A target that refuses: that connection is closed at once, the tunnel stays up.
    let nothing = free_port();
    let mut refused_tunnel = tunnel_to(&gate, nothing).await;
    let mut s = TcpStream::connect(("127.0.0.1", refused_tunnel.port))
        .await
        .expect("the local listener accepts");
    let mut buf = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("the refused connection is closed");
    assert!(n.map(|n| n == 0).unwrap_or(true));
    eventually("the refusal on stderr", Duration::from_secs(10), || async {
        refused_tunnel.stderr().contains("refused").then_some(())
    })
    .await;
    assert!(refused_tunnel.is_running());
    // The same tunnel works once the service is there, and the other tunnel never noticed.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", nothing))
        .await
        .expect("bind the port");
    let serve = tokio::spawn(async move {
        let (mut c, _) = listener.accept().await.expect("accept");
        c.write_all(b"late but here").await.expect("write");
    });
    let mut s = TcpStream::connect(("127.0.0.1", refused_tunnel.port))
        .await
        .expect("connect again");
    let mut got = String::new();
    s.read_to_string(&mut got).await.expect("read");
    assert_eq!(got, "late but here", "{}", refused_tunnel.stderr());
    serve.await.expect("served");
    let mut s = TcpStream::connect(("127.0.0.1", tunnel.port))
        .await
        .expect("connect");
    s.shutdown().await.expect("half-close");
    let mut reply = String::new();
    s.read_to_string(&mut reply).await.expect("reply");
    assert_eq!(reply, "got 0 bytes");
}

#[tokio::test]
async fn tunnel_to_an_undeclared_port_or_host_is_refused_with_exit_3() {
    let fx = Fixture::start(&["web-01"]).await;
    let (gate, _) = signed_in(&fx, "--tunnel-port 5432").await;
    let run = gate
        .run(&["--json", "tunnel", "web-01", "-l", "0", "-r", "5433"])
        .await;
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.error_json()["error_code"], "tunnel_not_allowed");
    assert_eq!(run.stdout, "", "nothing listened");
    // Another host on the server's network: only when the server entry lists it.
    let run = gate
        .run(&["--json", "tunnel", "web-01", "-L", "0:10.0.0.5:5432"])
        .await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.error_json()["reason"]
        .as_str()
        .is_some_and(|r| r.contains("tunnel_allow")));
    // Both are denials on the session's timeline.
    let denials = fx.api.audit("gate.denied").await;
    let tunnel_denials = denials
        .iter()
        .filter(|e| e.details["error_code"] == "tunnel_not_allowed")
        .count();
    assert_eq!(tunnel_denials, 2);
}

#[tokio::test]
async fn tunnel_target_the_agent_does_not_allow_is_refused_by_the_agent() {
    let mut fx = Fixture::start(&["web-01"]).await;
    let allowed = http_server(Arc::new(b"allowed".to_vec())).await;
    let other = http_server(Arc::new(b"never".to_vec())).await;
    // The agent allows one port only; the gateway's default (127.0.0.1:*) allows both.
    let config = fx.agents[0].config.clone();
    fx.agents[0].kill();
    wait_connected(&fx.api, "web-01", false).await;
    let rule = format!("127.0.0.1:{allowed}");
    fx.agents[0] = Agent::run_with("web-01", &config, &["--tunnel-allow", &rule]);
    wait_connected(&fx.api, "web-01", true).await;
    let (gate, _) = signed_in(&fx, "").await;

    let refused = tunnel_to(&gate, other).await;
    let got = http_get(refused.port).await;
    assert!(got.is_err(), "the agent connected anyway: {got:?}");
    eventually(
        "the agent's reason on stderr",
        Duration::from_secs(10),
        || async { refused.stderr().contains("--tunnel-allow").then_some(()) },
    )
    .await;
    let ok = tunnel_to(&gate, allowed).await;
    assert_eq!(http_get(ok.port).await.expect("allowed"), b"allowed");
}

#[tokio::test]
async fn tunnel_revoke_ends_it_and_its_listener_within_a_second() {
    let fx = Fixture::start(&["web-01"]).await;
    let (gate, session) = signed_in(&fx, "").await;
    let echo = half_close_server().await;
    let mut tunnel = tunnel_to(&gate, echo).await;
    // A connection in the middle of its exchange.
    let mut open = TcpStream::connect(("127.0.0.1", tunnel.port))
        .await
        .expect("connect");
    open.write_all(b"half way").await.expect("send");
    let listed = eventually(
        "the tunnel in the list",
        Duration::from_secs(10),
        || async {
            let list = fx.api.client.tunnels(None).await.expect("the tunnels");
            let t = list.items.into_iter().next()?;
            (t.connections_open == 1).then_some(t)
        },
    )
    .await;
    assert_eq!(listed.work_session, Some(session));

    let revoked = Instant::now();
    fx.revoke(session).await;
    let code = tunnel.exit_within(Duration::from_secs(1)).await;
    assert_eq!(
        code,
        Some(3),
        "gate did not end within a second: {}",
        tunnel.stderr()
    );
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        Duration::from_secs(1).saturating_sub(revoked.elapsed()),
        open.read_to_end(&mut rest),
    )
    .await;
    assert!(closed.is_ok(), "the open connection outlived the revoke");
    wait_refused(tunnel.port, Duration::from_millis(100)).await;
    assert!(revoked.elapsed() < Duration::from_secs(1));
    let list = fx.api.client.tunnels(None).await.expect("the tunnels");
    assert_eq!(list.total, 0, "{list:?}");
    // The tunnel and its connection are on the session's timeline (written as they end).
    let wanted = [
        "tunnel.opened",
        "tunnel.connection_opened",
        "tunnel.connection_closed",
        "tunnel.closed",
    ];
    eventually(
        "the tunnel on the timeline",
        Duration::from_secs(10),
        || async {
            let timeline = fx.api.client.timeline(session).await.expect("the timeline");
            wanted
                .iter()
                .all(|k| timeline.items.iter().any(|have| have.kind == *k))
                .then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn tunnel_carrier_survives_a_gateway_restart_with_its_listener_up() {
    let fx = Fixture::start(&["web-01"]).await;
    let (gate, _) = signed_in(&fx, "").await;
    let service = http_server(Arc::new(b"before and after".to_vec())).await;
    let mut tunnel = tunnel_to(&gate, service).await;
    assert_eq!(
        http_get(tunnel.port).await.expect("before"),
        b"before and after"
    );

    let fx = fx.crash_and_restart("web-01").await;
    assert!(tunnel.is_running(), "{}", tunnel.stderr());
    // The listener never went away; once the carrier is back, connections flow again.
    let port = tunnel.port;
    let got = eventually(
        "a connection after the restart",
        Duration::from_secs(30),
        || async { http_get(port).await.ok() },
    )
    .await;
    assert_eq!(got, b"before and after", "{}", tunnel.stderr());
    assert!(tunnel.is_running());
    let list = fx.api.client.tunnels(None).await.expect("the tunnels");
    assert_eq!(list.total, 1, "{list:?}");
}

/// A tunnel whose client is gone when the gateway restarts is still a live tunnel (listed,
/// swept): its session ending ends it, rather than its row staying open in the store.
#[tokio::test]
async fn tunnel_left_uncarried_by_a_restart_is_listed_and_ends_with_its_session() {
    let fx = Fixture::start(&["web-01"]).await;
    let (gate, session) = signed_in(&fx, "").await;
    let service = http_server(Arc::new(b"once".to_vec())).await;
    let mut tunnel = tunnel_to(&gate, service).await;
    assert_eq!(http_get(tunnel.port).await.expect("through"), b"once");
    tunnel.child.kill().await.expect("stop gate tunnel");

    let fx = fx.crash_and_restart("web-01").await;
    let listed = eventually(
        "the tunnel listed after the restart",
        Duration::from_secs(10),
        || async {
            let list = fx.api.client.tunnels(None).await.expect("the tunnels");
            list.items.into_iter().next()
        },
    )
    .await;
    assert_eq!(listed.work_session, Some(session), "{listed:?}");

    fx.revoke(session).await;
    let ended = eventually(
        "the uncarried tunnel ended with its session",
        Duration::from_secs(5),
        || async { fx.api.audit("tunnel.closed").await.into_iter().next() },
    )
    .await;
    assert_eq!(ended.target, Some(listed.id.to_string()), "{ended:?}");
    let list = fx.api.client.tunnels(None).await.expect("the tunnels");
    assert_eq!(list.total, 0, "{list:?}");
}

#[tokio::test]
async fn tunnel_bulk_transfer_leaves_keystrokes_on_the_same_agent_quick() {
    let fx = Fixture::start(&["web-01"]).await;
    let (gate, _) = signed_in(&fx, "--scope websh").await;
    fx.session(&["websh"], &["web-01"]).await;
    let (_, url) = fx.terminal("web-01").await;
    let mut term = Term::connect(&url, &fx.api, None).await.expect("terminal");
    term.type_text("stty -icanon; cat\r").await;
    let idle = term.echo_latencies(5).await;

    let body: Vec<u8> = vec![42u8; 256 * 1024 * 1024];
    let service = http_server(Arc::new(body)).await;
    let tunnel = tunnel_to(&gate, service).await;
    let port = tunnel.port;
    let bulk = tokio::spawn(async move { http_get(port).await.map(|b| b.len()) });
    let mut during = Vec::new();
    while !bulk.is_finished() && during.len() < 40 {
        during.extend(term.echo_latencies(1).await);
    }
    let got = bulk.await.expect("task").expect("bulk download");
    assert_eq!(got, 256 * 1024 * 1024);
    assert!(
        !during.is_empty(),
        "the transfer ended before a key was typed"
    );
    let worst = during.iter().max().copied().unwrap_or_default();
    assert!(
        worst < Duration::from_secs(1),
        "a keystroke took {worst:?} during the transfer (idle: {idle:?})"
    );
}

#[tokio::test]
async fn tunnel_stream_admission_checks_origin_owner_and_the_rules_again() {
    use futures_util::{SinkExt, StreamExt};
    use gatehouse_e2e::terminal::dial;
    use tokio_tungstenite::tungstenite::Message;

    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["tunnel"], &["web-01"]).await;
    let created = fx
        .api
        .client
        .create_tunnel(&CreateTunnel {
            server: "web-01".to_owned(),
            remote_port: 5432,
            remote_host: None,
        })
        .await
        .expect("a tunnel");
    let url = fx.server.ws_url(&created.ws_path);
    let cookie = fx.api.cookie.clone();

    let foreign = dial(
        &url,
        Some(&cookie),
        None,
        Some("https://evil.example"),
        None,
    )
    .await;
    assert!(
        foreign.is_err_and(|e| e.contains("403")),
        "a foreign Origin"
    );
    let mia = fx.member("mia", "web-*").await;
    let other = dial(&url, Some(&mia.cookie), None, None, None).await;
    assert!(
        other.is_err_and(|e| e.contains("404")),
        "another person's tunnel"
    );

    // The owner gets the stream; a message it does not know closes it with 1008.
    let mut ws = dial(&url, Some(&cookie), None, None, None)
        .await
        .expect("the owner");
    let hello = ws.next().await.expect("hello").expect("frame");
    assert!(
        hello.to_text().expect("text").contains("\"hello\""),
        "{hello:?}"
    );
    ws.send(Message::text(r#"{"t":"nope"}"#))
        .await
        .expect("send");
    let closed = loop {
        match ws.next().await {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    };
    assert_eq!(closed, Some(1008));

    // Staff narrow the server entry: the next carrier connection is refused by the rules.
    let servers = fx.api.client.servers(None).await.expect("the servers");
    let narrowed = UpdateServer {
        tunnel_allow: Some(vec!["10.0.0.5:*".to_owned()]),
        ..UpdateServer::default()
    };
    fx.api
        .client
        .update_server(servers.items[0].id, &narrowed)
        .await
        .expect("the server entry narrowed");
    let refused = dial(&url, Some(&cookie), None, None, None).await;
    assert!(
        refused.is_err_and(|e| e.contains("403")),
        "after tunnel_allow changed"
    );
}

#[tokio::test]
async fn tunnel_runs_a_command_with_it_up_and_ctrl_c_ends_it_cleanly() {
    let fx = Fixture::start(&["web-01"]).await;
    let (gate, _) = signed_in(&fx, "").await;
    let service = http_server(Arc::new(b"hello from the service".to_vec())).await;
    let remote = service.to_string();
    // The command reaches the service through the tunnel, and its status is gate's.
    let script = "exec 3<>/dev/tcp/127.0.0.1/$GATE_TUNNEL_PORT; \
                  printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; grep -q 'hello from the service' <&3 && exit 7";
    let run = gate
        .run(&[
            "tunnel", "web-01", "-l", "0", "-r", &remote, "--", "bash", "-c", script,
        ])
        .await;
    assert_eq!(run.code, 7, "{run:?}");
    let list = fx.api.client.tunnels(None).await.expect("the tunnels");
    assert_eq!(list.total, 0, "ended on the way out");

    // Ctrl-C: exit 0, the tunnel ended on the server, the local port closed.
    let mut tunnel = tunnel_to(&gate, service).await;
    let list = fx.api.client.tunnels(None).await.expect("the tunnels");
    assert_eq!(list.total, 1);
    let pid = tunnel.child.id().expect("running");
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    assert_eq!(tunnel.exit_within(Duration::from_secs(5)).await, Some(0));
    wait_refused(tunnel.port, Duration::from_secs(1)).await;
    let list = fx.api.client.tunnels(None).await.expect("the tunnels");
    assert_eq!(list.total, 0);
}

#[tokio::test]
async fn tunnel_connection_reset_by_the_target_leaves_its_neighbours_alone() {
    let fx = Fixture::start(&["web-01"]).await;
    let (gate, _) = signed_in(&fx, "").await;
    // A service that resets a connection whose first byte is `R`, and otherwise answers how
    // much it read once the client half-closes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                if s.read_exact(&mut first).await.is_err() {
                    return;
                }
                if first[0] == b'R' {
                    // A zero linger makes the drop a reset at once (it never blocks then).
                    #[allow(deprecated)]
                    let _ = s.set_linger(Some(Duration::ZERO));
                    return;
                }
                let mut rest = Vec::new();
                if s.read_to_end(&mut rest).await.is_ok() {
                    let _ = s
                        .write_all(format!("got {}", rest.len() + 1).as_bytes())
                        .await;
                }
            });
        }
    });
    let tunnel = tunnel_to(&gate, port).await;
    let mut calm = TcpStream::connect(("127.0.0.1", tunnel.port))
        .await
        .expect("connect");
    calm.write_all(b"abc").await.expect("send");

    let mut reset = TcpStream::connect(("127.0.0.1", tunnel.port))
        .await
        .expect("connect");
    reset.write_all(b"R").await.expect("send");
    let mut buf = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), reset.read_to_end(&mut buf)).await;
    assert!(ended.is_ok(), "the reset connection was not ended");
    assert!(buf.is_empty());

    // The other connection carries on to its end.
    calm.write_all(b"def").await.expect("send more");
    calm.shutdown().await.expect("half-close");
    let mut reply = String::new();
    calm.read_to_string(&mut reply).await.expect("reply");
    assert_eq!(reply, "got 6", "{}", tunnel.stderr());
    // Both are audited: the reset one as a failure with its error, the other as a success.
    let outcomes = closed_connections(&fx, |n| n == 2).await;
    let failed: Vec<&AuditEvent> = outcomes.iter().filter(|e| e.outcome == "failure").collect();
    assert_eq!(failed.len(), 1, "{outcomes:?}");
    assert!(failed[0].details["error"]
        .as_str()
        .is_some_and(|e| e.contains("reset")));
}
