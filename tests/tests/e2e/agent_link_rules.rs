//! The agent link's rules, held against a fake agent on the real server: no hello in time, a
//! version it does not speak and a malformed frame close only that link, and frames naming a channel opened on
//! another agent's link reach nothing.

use crate::Fixture;
use futures_util::{SinkExt, StreamExt};
use gatehouse_e2e::terminal::Term;
use gatehouse_e2e::wait_connected;
use gatehouse_shared::agent_link::{
    encode_output, AgentMessage, ChannelId, GatewayMessage, OutputStream, PROTOCOL_VERSION,
};
use gatehouse_shared::server::CreateRegistrationToken;
use serde_json::json;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const WAIT: Duration = Duration::from_secs(20);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A registered agent credential for `name`, without an agent process behind it.
async fn register_fake(fx: &Fixture, name: &str) -> String {
    let reg = fx
        .api
        .client
        .create_registration_token(&CreateRegistrationToken::default())
        .await
        .expect("a registration token");
    // Raw: the agent's own registration, which only agents speak.
    let body = json!({
        "registration_token": reg.token, "name": name,
        "os": "linux", "platform": "fake", "hostname": name,
    });
    let credential = reqwest::Client::new()
        .post(format!("{}/api/agents/register", fx.server.base))
        .json(&body)
        .send()
        .await
        .expect("register")
        .json::<serde_json::Value>()
        .await
        .expect("credential");
    format!(
        "Agent {}:{}",
        credential["agent_id"].as_str().expect("agent_id"),
        credential["agent_secret"].as_str().expect("agent_secret")
    )
}

async fn dial(fx: &Fixture, credential: &str) -> Socket {
    let mut request = fx.server.ws_url("/ws/agent").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", HeaderValue::from_str(credential).unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .expect("dial the agent link")
        .0
}

fn hello(version: u32) -> Message {
    let hello = AgentMessage::Hello {
        version,
        agent_version: "fake".into(),
        hostname: "fake".into(),
        os: "linux".into(),
        platform: "fake".into(),
        capabilities: vec!["pty".into(), "exec".into()],
        privileged: false,
        ptys: Vec::new(),
    };
    Message::Text(serde_json::to_string(&hello).unwrap().into())
}

/// Reads until the server closes the link; returns the close code.
async fn close_code(socket: &mut Socket) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??;
        match frame {
            Ok(Message::Close(frame)) => return frame.map(|f| f.code.into()),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

/// Reads until the gateway's welcome.
async fn welcomed(socket: &mut Socket) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("a welcome in time")
            .expect("the link is open")
            .expect("a frame");
        if let Message::Text(text) = frame {
            if let Ok(GatewayMessage::Welcome { .. }) = serde_json::from_str(&text) {
                return;
            }
        }
    }
}

#[tokio::test]
async fn a_fake_agent_is_held_to_the_link_rules_and_reaches_no_other_links_channels() {
    let fx = Fixture::start(&["web-01"]).await;
    fx.session(&["websh"], &["web-01"]).await;
    let (id, url) = fx.terminal("web-01").await;
    let mut term = Term::connect(&url, &fx.api, None).await.expect("connect");
    term.type_text("echo ready-$((6*7))\r").await;
    assert!(
        term.read_until(WAIT, |t| t.text().contains("ready-42"))
            .await,
        "{}",
        term.text()
    );
    let credential = register_fake(&fx, "fake-01").await;
    // A link that never says hello is closed after the hello timeout (10 s); checked at the end.
    let mut silent = dial(&fx, &credential).await;

    // A protocol version the gateway does not speak: closed with 4426.
    let mut socket = dial(&fx, &credential).await;
    socket.send(hello(PROTOCOL_VERSION + 99)).await.unwrap();
    assert_eq!(close_code(&mut socket).await, Some(4426));

    // Something other than a hello first: closed as a protocol error.
    let mut socket = dial(&fx, &credential).await;
    socket
        .send(Message::Text("{\"t\": \"opened\"}".into()))
        .await
        .unwrap();
    assert_eq!(close_code(&mut socket).await, Some(1002));

    // A well-behaved hello is welcomed; then the fake agent addresses web-01's terminal.
    let mut socket = dial(&fx, &credential).await;
    socket.send(hello(PROTOCOL_VERSION)).await.unwrap();
    welcomed(&mut socket).await;
    wait_connected(&fx.api, "fake-01", true).await;
    let channel: ChannelId = serde_json::from_value(json!(id)).unwrap();
    let forged = encode_output(channel, OutputStream::Pty, term.end(), b"FORGED-BY-FAKE-01");
    socket.send(Message::Binary(forged.into())).await.unwrap();
    let exited = AgentMessage::Exited {
        channel,
        code: Some(0),
    };
    socket
        .send(Message::Text(
            serde_json::to_string(&exited).unwrap().into(),
        ))
        .await
        .unwrap();

    // The real terminal goes on as if nothing happened: no forged bytes, not ended.
    term.type_text("echo still-$((7*6))\r").await;
    assert!(
        term.read_until(WAIT, |t| t.text().contains("still-42"))
            .await,
        "{}",
        term.text()
    );
    assert!(!term.text().contains("FORGED"), "{}", term.text());
    assert_eq!(term.closed, None);
    let live = fx
        .api
        .client
        .live_terminals()
        .await
        .expect("the live terminals");
    assert!(
        live.items.iter().any(|t| t.id.to_string() == id),
        "{live:?}"
    );

    // A malformed frame closes the fake's link only; web-01 and its terminal stay.
    socket.send(Message::Text("not json".into())).await.unwrap();
    assert_eq!(close_code(&mut socket).await, Some(1003));
    wait_connected(&fx.api, "fake-01", false).await;
    wait_connected(&fx.api, "web-01", true).await;
    term.type_text("echo alive-$((5*5))\r").await;
    assert!(
        term.read_until(WAIT, |t| t.text().contains("alive-25"))
            .await,
        "{}",
        term.text()
    );
    // The recording holds the real bytes and none of the forged ones.
    let cast = fx.api.recording_with(&id, "alive-25").await;
    assert!(cast.contains("still-42"), "{cast}");
    assert!(!cast.contains("FORGED"), "{cast}");
    assert_eq!(
        close_code(&mut silent).await,
        Some(1002),
        "no hello, no link"
    );
}

#[tokio::test]
async fn an_idle_link_is_pinged_kept_while_it_answers_and_dropped_when_it_falls_silent() {
    // One second between pings, so a silent link is dropped after three.
    let fx = Fixture::start_with(&[], &["--agent-keepalive-secs", "1"]).await;
    let credential = register_fake(&fx, "fake-02").await;
    let mut socket = dial(&fx, &credential).await;
    socket.send(hello(PROTOCOL_VERSION)).await.unwrap();
    welcomed(&mut socket).await;
    wait_connected(&fx.api, "fake-02", true).await;

    // Reading answers each ping with a pong (the client library does so as it reads). Stay
    // for six pings, twice the silence that would drop the link.
    let mut pings = 0;
    let deadline = tokio::time::Instant::now() + WAIT;
    while pings < 6 {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("pings keep coming")
            .expect("the link stays open")
            .expect("a frame");
        if let Message::Ping(_) = frame {
            pings += 1;
        }
    }
    let servers = fx
        .api
        .client
        .servers(Some("fake-02".to_owned()))
        .await
        .expect("the servers");
    assert!(servers.items[0].connected, "{servers:?}");

    // Silence: no reads, so no pongs. The gateway drops the link and says so in the log.
    wait_connected(&fx.api, "fake-02", false).await;
    let gone = fx.api.audit("agent.disconnected").await;
    assert_eq!(gone[0].target.as_deref(), Some("fake-02"), "{gone:?}");
    drop(socket);
}
