//! A fake gateway for the agent's integration tests: it listens on loopback, starts the real
//! `gatehouse-agent run` pointed at it, and speaks the agent link to it.
// Each test crate uses a different part of this module.
#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use gatehouse_shared::agent_link::{
    decode_data, encode_output, AgentMessage, ChannelId, DataKind, GatewayMessage, OutputStream,
};
use std::path::Path;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub const PATIENCE: Duration = Duration::from_secs(30);

pub enum Frame {
    Control(AgentMessage),
    Data(ChannelId, DataKind, Vec<u8>),
}

pub struct Gateway {
    pub ws: WebSocketStream<TcpStream>,
    _agent: tokio::process::Child,
    _config: tempfile::TempDir,
}

impl Gateway {
    /// Starts an agent whose only file root is `root` and takes its link.
    pub async fn start(root: &Path) -> Gateway {
        Gateway::start_with_env(root, &[]).await
    }

    /// Like `start`, with `env` added to the agent's own environment.
    pub async fn start_with_env(root: &Path, env: &[(&str, &str)]) -> Gateway {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let config = tempfile::tempdir().unwrap();
        let config_path = config.path().join("agent.json");
        let json = serde_json::json!({
            "server": format!("http://127.0.0.1:{port}"),
            "server_id": "s", "agent_id": "a", "agent_secret": "x", "name": "test",
        });
        std::fs::write(&config_path, json.to_string()).unwrap();
        let agent = tokio::process::Command::new(env!("CARGO_BIN_EXE_gatehouse-agent"))
            .arg("run")
            .arg("--config")
            .arg(&config_path)
            .arg("--file-root")
            .arg(root)
            .env("RUST_LOG", "error")
            .envs(env.iter().copied())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let (tcp, _) = tokio::time::timeout(PATIENCE, listener.accept())
            .await
            .expect("the agent dials in")
            .unwrap();
        let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let mut gw = Gateway {
            ws,
            _agent: agent,
            _config: config,
        };
        match gw.next().await {
            Frame::Control(AgentMessage::Hello { capabilities, .. }) => {
                assert!(
                    capabilities.iter().any(|c| c == "files"),
                    "{capabilities:?}"
                );
            }
            _ => panic!("no hello"),
        }
        gw.send(GatewayMessage::Welcome {
            version: 1,
            server_name: "fake".into(),
        })
        .await;
        gw
    }

    pub async fn send(&mut self, msg: GatewayMessage) {
        let text = serde_json::to_string(&msg).unwrap();
        self.ws.send(Message::text(text)).await.unwrap();
    }

    pub async fn send_data(&mut self, channel: ChannelId, offset: u64, bytes: &[u8]) {
        let frame = encode_output(channel, OutputStream::File, offset, bytes);
        self.ws.send(Message::Binary(frame.into())).await.unwrap();
    }

    /// Input bytes for a PTY, or standard input for an exec opened with `stdin`.
    pub async fn send_input(&mut self, channel: ChannelId, bytes: &[u8]) {
        let frame = gatehouse_shared::agent_link::encode_data(channel, DataKind::Input, bytes);
        self.ws.send(Message::Binary(frame.into())).await.unwrap();
    }

    pub async fn next(&mut self) -> Frame {
        loop {
            let msg = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("the agent answers in time")
                .expect("the link is open")
                .unwrap();
            match msg {
                Message::Text(t) => return Frame::Control(serde_json::from_str(&t).unwrap()),
                Message::Binary(b) => {
                    let (ch, kind, payload) = decode_data(&b).unwrap();
                    return Frame::Data(ch, kind, payload.to_vec());
                }
                _ => {}
            }
        }
    }
}
