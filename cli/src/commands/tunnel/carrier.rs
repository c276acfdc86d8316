//! The carrier of one tunnel: the `WS /ws/tunnels/{id}` stream, reconnected with backoff while
//! the local listener stays up (connections made meanwhile wait for it). Frames are routed to
//! the local connections by number; a dropped stream ends the connections it carried, never
//! the listener. A refusal on reconnect (the gate said no) or the gateway ending the tunnel is
//! fatal: gate exits with its code.

use super::local::{self, Conn};
use crate::exit::CliError;
use futures_util::{SinkExt, StreamExt};
use gatehouse_client::{exit, Client, ClientError};
use gatehouse_shared::tunnel::{close, decode_frame, ServerMessage};
use gatehouse_shared::websh::flow::backoff_ms;
use std::collections::HashMap;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

/// How long the stream may stay silent before it counts as broken (the gateway pings every 15 s).
const SILENCE: Duration = Duration::from_secs(45);

/// A tunnel ended for good: gate stops with this error.
#[derive(Debug)]
pub struct Fatal(pub CliError);

/// The queue into the current stream's writer.
pub type Outbox = mpsc::UnboundedSender<Message>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the carrier and the local connections share.
pub struct Shared {
    /// The current stream's outbox; `None` while reconnecting.
    pub out: watch::Sender<Option<Outbox>>,
    pub conns: Mutex<HashMap<u32, Arc<Conn>>>,
    pub next: AtomicU32,
}

impl Shared {
    pub fn conn(&self, id: u32) -> Option<Arc<Conn>> {
        lock(&self.conns).get(&id).cloned()
    }

    pub fn take(&self, id: u32) -> Option<Arc<Conn>> {
        lock(&self.conns).remove(&id)
    }

    pub fn insert(&self, conn: Arc<Conn>) {
        lock(&self.conns).insert(conn.id, conn);
    }
}

pub struct Carrier {
    client: Arc<Client>,
    ws_path: String,
    fatal: mpsc::UnboundedSender<Fatal>,
    shared: Arc<Shared>,
}

fn fatal_close(code: u16, reason: &str) -> CliError {
    let exit_code = if code == close::WORK_SESSION_ENDED {
        exit::GATE_DENIED
    } else {
        exit::ERROR
    };
    let message = if reason.is_empty() {
        format!("the gateway ended the tunnel (close code {code})")
    } else {
        format!("the gateway ended the tunnel: {reason}")
    };
    CliError {
        exit_code,
        envelope: serde_json::json!({
            "ok": false, "error_code": "tunnel_ended", "message": message,
        }),
    }
}

impl Carrier {
    pub fn new(client: Arc<Client>, ws_path: String, fatal: mpsc::UnboundedSender<Fatal>) -> Self {
        Carrier {
            client,
            ws_path,
            fatal,
            shared: Arc::new(Shared {
                out: watch::Sender::new(None),
                conns: Mutex::new(HashMap::new()),
                next: AtomicU32::new(1),
            }),
        }
    }

    /// Serves `listener` and keeps the stream up, in the background.
    pub fn start(self, listener: TcpListener) {
        let shared = self.shared.clone();
        tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(local::serve(stream, peer, shared.clone()));
            }
        });
        tokio::spawn(self.run());
    }

    async fn run(self) {
        let mut attempt: u32 = 0;
        loop {
            match self.client.websocket(&self.ws_path).await {
                Ok(socket) => {
                    attempt = 0;
                    if let Some(fatal) = self.carry(socket).await {
                        let _ = self.fatal.send(Fatal(fatal));
                        return;
                    }
                    eprintln!("gate: the tunnel stream broke; reconnecting");
                }
                // Refused before the upgrade (the gate, an ended tunnel): no retry helps,
                // except when the server is only busy or restarting behind a proxy.
                Err(ClientError::Api(e)) if e.status < 500 && e.status != 429 => {
                    let _ = self.fatal.send(Fatal(ClientError::Api(e).into()));
                    return;
                }
                Err(_) => {}
            }
            let jitter = f64::from(attempt % 7) / 7.0;
            let wait = u64::from(backoff_ms(attempt, jitter));
            attempt = attempt.saturating_add(1);
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
    }

    /// Carries the tunnel on `socket` until it drops (`None`) or the tunnel ends (`Some`).
    async fn carry(&self, socket: gatehouse_client::transport::ws::Socket) -> Option<CliError> {
        let (mut sink, mut stream) = socket.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        let writer = tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
        });
        self.shared.out.send_replace(Some(tx));
        let mut ended = None;
        let mut reason = String::new();
        // The gateway pings every 15 s: three of those without a frame is a dead stream.
        while let Ok(Some(Ok(msg))) = tokio::time::timeout(SILENCE, stream.next()).await {
            match msg {
                Message::Binary(frame) => {
                    if let Some((id, payload)) = decode_frame(&frame) {
                        if let Some(conn) = self.shared.conn(id) {
                            conn.data(frame.slice(frame.len() - payload.len()..));
                        }
                    }
                }
                Message::Text(text) => match serde_json::from_str::<ServerMessage>(&text) {
                    Ok(msg) => self.control(msg, &mut reason),
                    Err(_) => eprintln!("gate: ignoring an unknown tunnel message"),
                },
                Message::Close(frame) => {
                    if let Some(f) = frame {
                        let code = u16::from(f.code);
                        if code != u16::from(CloseCode::Normal) && code >= 4000 {
                            let why = if reason.is_empty() {
                                f.reason.to_string()
                            } else {
                                reason
                            };
                            ended = Some(fatal_close(code, &why));
                        }
                    }
                    break;
                }
                _ => {}
            }
        }
        self.shared.out.send_replace(None);
        writer.abort();
        // The gateway forgot this stream's connections with it.
        let conns: Vec<Arc<Conn>> = lock(&self.shared.conns).drain().map(|(_, c)| c).collect();
        for conn in conns {
            conn.closed(Some("the tunnel stream broke".into()));
        }
        ended
    }

    fn control(&self, msg: ServerMessage, reason: &mut String) {
        match msg {
            ServerMessage::Hello { .. } => {}
            ServerMessage::Opened { conn } => {
                if let Some(c) = self.shared.conn(conn) {
                    c.opened(Ok(()));
                }
            }
            ServerMessage::OpenFailed { conn, message } => {
                if let Some(c) = self.shared.take(conn) {
                    c.opened(Err(message));
                }
            }
            ServerMessage::Credit { conn, offset } => {
                if let Some(c) = self.shared.conn(conn) {
                    c.credit(offset);
                }
            }
            ServerMessage::Closed { conn, error } => {
                if let Some(c) = self.shared.take(conn) {
                    c.closed(error);
                }
            }
            ServerMessage::End { reason: why } => *reason = why,
        }
    }
}
