//! One carrier of a tunnel: relays the client's numbered TCP connections to channels on the
//! agent link and back. Credit is end to end: the client may send a connection's bytes only
//! within the credit the agent granted (the target took them), and the agent only within the
//! credit the client granted, so the gateway holds at most one window per connection and
//! direction. Every connection is audited when it opens and when it ends (bytes each way,
//! peer); one failing never ends the others.

use crate::core::audit::{self, FAILURE, SUCCESS};
use crate::core::gate::GatePass;
use crate::core::gateway::hub::AgentLink;
use crate::core::gateway::tunnel::{ConnEvent, LiveTunnel, TunnelConn};
use crate::core::state::AppState;
use crate::store::audit::NewEvent;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use gatehouse_shared::agent_link::{encode_output, GatewayMessage, OutputStream};
use gatehouse_shared::audit::AuditAction;
use gatehouse_shared::tunnel::{
    close, decode_frame, encode_frame, ClientMessage, ServerMessage, MAX_CONNECTIONS, VERSION,
    WINDOW,
};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

type Sink = SplitSink<WebSocket, Message>;

/// How often the gateway pings the client; a client silent for three of these is gone.
const KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(15);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn text(msg: &ServerMessage) -> Message {
    // Serialising our own enum cannot fail.
    Message::Text(serde_json::to_string(msg).unwrap_or_default().into())
}

/// One connection of this carrier.
struct Entry {
    conn: Arc<TunnelConn>,
    link: Arc<AgentLink>,
    /// The agent said `opened`: the client may send.
    opened: bool,
    /// Client bytes sent to the agent so far, and the agent's credit (the target took these).
    up: u64,
    up_credit: u64,
}

pub struct Carrier {
    state: AppState,
    tunnel: Arc<LiveTunnel>,
    pass: Arc<GatePass>,
    actor: String,
    client_ip: IpAddr,
    conns: Mutex<HashMap<u32, Entry>>,
    events: mpsc::UnboundedSender<ConnEvent>,
    events_rx: Mutex<Option<mpsc::UnboundedReceiver<ConnEvent>>>,
    /// Audit events, written in order by one task so the relay never waits on the log.
    audit: mpsc::UnboundedSender<NewEvent>,
}

impl Carrier {
    pub fn new(
        state: AppState,
        tunnel: Arc<LiveTunnel>,
        pass: GatePass,
        actor: String,
        client_ip: IpAddr,
    ) -> Self {
        let (events, events_rx) = mpsc::unbounded_channel();
        let (audit, mut audit_rx) = mpsc::unbounded_channel::<NewEvent>();
        let writer_state = state.clone();
        tokio::spawn(async move {
            while let Some(event) = audit_rx.recv().await {
                // `record_event` logs a failure itself; the connection goes on either way.
                let _ = audit::record_event(&writer_state, event).await;
            }
        });
        Carrier {
            state,
            tunnel,
            pass: Arc::new(pass),
            actor,
            client_ip,
            conns: Mutex::new(HashMap::new()),
            events,
            events_rx: Mutex::new(Some(events_rx)),
            audit,
        }
    }

    fn record(&self, action: AuditAction, outcome: &'static str, details: serde_json::Value) {
        let t = &self.tunnel;
        let event = audit::event(action, outcome)
            .actor(&self.actor)
            .target(t.id.to_string())
            .server(&t.server_name)
            .in_session(t.work_session)
            .details(details);
        let _ = self.audit.send(event);
    }

    fn conn_details(&self, conn: &TunnelConn) -> serde_json::Value {
        let t = &self.tunnel;
        serde_json::json!({
            "tunnel": t.id,
            "conn": conn.conn,
            "peer": conn.peer,
            "client_ip": self.client_ip.to_string(),
            "remote": format!("{}:{}", t.remote_host, t.remote_port),
        })
    }

    /// A connection ended (or never opened): counted and audited once, here.
    fn finish(&self, entry: &Entry, error: Option<&str>) {
        let conn = &entry.conn;
        self.tunnel.stats.open.fetch_sub(1, Ordering::Relaxed);
        let mut details = self.conn_details(conn);
        details["bytes_up"] = conn.up.load(Ordering::Relaxed).into();
        details["bytes_down"] = conn.down.load(Ordering::Relaxed).into();
        details["duration_ms"] = u64::try_from(conn.opened_at.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .into();
        details["opened"] = entry.opened.into();
        if let Some(error) = error {
            details["error"] = error.into();
        }
        let outcome = if error.is_some() { FAILURE } else { SUCCESS };
        self.record(AuditAction::TunnelConnectionClosed, outcome, details);
    }

    /// Ends a connection from the gateway side: the agent forgets it, it is audited.
    fn abort(&self, conn: u32, why: &str) -> bool {
        let Some(entry) = lock(&self.conns).remove(&conn) else {
            return false;
        };
        entry.link.remove(entry.conn.id);
        entry.link.try_send(&GatewayMessage::Close {
            channel: entry.conn.id,
        });
        self.finish(&entry, Some(why));
        true
    }

    fn open(&self, conn: u32, peer: Option<String>) {
        let refuse = |message: String| {
            let _ = self.events.send(ConnEvent::OpenFailed { conn, message });
        };
        let link = self.state.hub.link(self.tunnel.server_id);
        let mut conns = lock(&self.conns);
        if conns.contains_key(&conn) {
            return refuse(format!("connection {conn} is already open"));
        }
        if conns.len() >= MAX_CONNECTIONS {
            return refuse(format!("at most {MAX_CONNECTIONS} connections per tunnel"));
        }
        let Some(link) = link else {
            let server = &self.tunnel.server_name;
            return refuse(format!(
                "server {server} is not connected; its agent is offline"
            ));
        };
        let tc = TunnelConn::new(conn, self.tunnel.clone(), peer, self.events.clone());
        // Registered before the agent is asked, so no byte of its answer can be missed.
        link.add_tunnel_conn(tc.clone());
        conns.insert(
            conn,
            Entry {
                conn: tc.clone(),
                link: link.clone(),
                opened: false,
                up: 0,
                up_credit: 0,
            },
        );
        drop(conns);
        let stats = &self.tunnel.stats;
        stats.open.fetch_add(1, Ordering::Relaxed);
        stats.total.fetch_add(1, Ordering::Relaxed);
        let (pass, events) = (self.pass.clone(), self.events.clone());
        let (host, port) = (self.tunnel.remote_host.clone(), self.tunnel.remote_port);
        tokio::spawn(async move {
            let event = match link.open_tunnel(tc.id, &pass, host, port).await {
                Ok(()) => ConnEvent::Opened { conn },
                Err(e) => {
                    link.remove(tc.id);
                    ConnEvent::OpenFailed {
                        conn,
                        message: e.to_string(),
                    }
                }
            };
            let _ = events.send(event);
        });
    }

    /// Client bytes for `conn` (empty: its end of stream), within the agent's credit.
    async fn upload(&self, conn: u32, payload: &[u8]) {
        let sent = {
            let mut conns = lock(&self.conns);
            let Some(entry) = conns.get_mut(&conn) else {
                // Already ended on our side; the client learns it from `closed`.
                return;
            };
            let end = entry.up + payload.len() as u64;
            if !entry.opened || end > entry.up_credit + WINDOW {
                None
            } else {
                let offset = entry.up;
                entry.up = end;
                Some((entry.link.clone(), entry.conn.clone(), offset))
            }
        };
        let Some((link, tc, offset)) = sent else {
            if self.abort(conn, "the client sent data beyond its credit") {
                let error = Some("data beyond its credit".to_owned());
                let _ = self.events.send(ConnEvent::Closed { conn, error });
            }
            return;
        };
        let n = payload.len() as u64;
        tc.up.fetch_add(n, Ordering::Relaxed);
        self.tunnel.stats.up.fetch_add(n, Ordering::Relaxed);
        let frame = encode_output(tc.id, OutputStream::Tunnel, offset, payload);
        link.send_file_data(frame).await;
    }

    /// Reads the client until it goes (or stays silent for three keepalives); the close code
    /// and reason of a protocol error.
    async fn read_client(&self, mut stream: SplitStream<WebSocket>) -> Option<(u16, &'static str)> {
        while let Ok(Some(Ok(msg))) = tokio::time::timeout(KEEPALIVE * 3, stream.next()).await {
            match msg {
                Message::Binary(frame) => match decode_frame(&frame) {
                    Some((conn, payload)) => self.upload(conn, payload).await,
                    None => return Some((close::MALFORMED, "a data frame needs its header")),
                },
                Message::Text(t) => match serde_json::from_str::<ClientMessage>(&t) {
                    Ok(ClientMessage::Open { conn, peer }) => self.open(conn, peer),
                    Ok(ClientMessage::Credit { conn, offset }) => {
                        let entry = lock(&self.conns)
                            .get(&conn)
                            .map(|e| (e.conn.clone(), e.link.clone()));
                        if let Some((tc, link)) = entry {
                            tc.grant(&link, offset);
                        }
                    }
                    Ok(ClientMessage::Close { conn }) => {
                        self.abort(conn, "closed by the client");
                    }
                    Err(_) => return Some((close::MALFORMED, "an unknown control message")),
                },
                Message::Close(_) => break,
                Message::Ping(_) | Message::Pong(_) => {}
            }
        }
        None
    }

    /// One event for the client; false when the client is gone.
    async fn deliver(&self, sink: &mut Sink, event: ConnEvent) -> bool {
        let msg = match event {
            ConnEvent::Data { conn, bytes } => Message::Binary(encode_frame(conn, &bytes).into()),
            ConnEvent::Credit { conn, offset } => {
                if let Some(e) = lock(&self.conns).get_mut(&conn) {
                    e.up_credit = e.up_credit.max(offset);
                }
                text(&ServerMessage::Credit { conn, offset })
            }
            ConnEvent::Opened { conn } => {
                let opened = match lock(&self.conns).get_mut(&conn) {
                    Some(e) => {
                        e.opened = true;
                        Some(e.conn.clone())
                    }
                    None => None,
                };
                let Some(tc) = opened else {
                    return true;
                };
                self.record(
                    AuditAction::TunnelConnectionOpened,
                    SUCCESS,
                    self.conn_details(&tc),
                );
                text(&ServerMessage::Opened { conn })
            }
            ConnEvent::OpenFailed { conn, message } => {
                if let Some(entry) = lock(&self.conns).remove(&conn) {
                    self.finish(&entry, Some(&message));
                }
                text(&ServerMessage::OpenFailed { conn, message })
            }
            ConnEvent::Closed { conn, error } => {
                let Some(entry) = lock(&self.conns).remove(&conn) else {
                    return true;
                };
                self.finish(&entry, error.as_deref());
                text(&ServerMessage::Closed { conn, error })
            }
        };
        sink.send(msg).await.is_ok()
    }
}

/// Carries the tunnel until the client goes, a newer carrier takes over, or the tunnel ends.
pub async fn serve(carrier: Carrier, socket: WebSocket) {
    let Some(mut events) = lock(&carrier.events_rx).take() else {
        return;
    };
    let t = carrier.tunnel.clone();
    let (generation, mut watch) = t.attach_carrier();
    let (mut sink, stream) = socket.split();
    let hello = ServerMessage::Hello {
        version: VERSION,
        tunnel: t.id,
        remote_host: t.remote_host.clone(),
        remote_port: t.remote_port,
    };
    // The client's side ending (or breaking the protocol) is told to the writer, which closes.
    let (stop_tx, mut stop_rx) = oneshot::channel::<Option<(u16, &'static str)>>();
    let down = async {
        if sink.send(text(&hello)).await.is_err() {
            return;
        }
        let mut keepalive = tokio::time::interval(KEEPALIVE);
        loop {
            let (code, reason) = tokio::select! {
                stop = &mut stop_rx => match stop {
                    Ok(Some((code, reason))) => (code, reason.to_owned()),
                    _ => return,
                },
                changed = watch.changed() => {
                    let now = watch.borrow_and_update().clone();
                    let (code, reason) = match (changed, &now.ended) {
                        (_, Some(end)) => (end.code, end.reason.clone()),
                        (Ok(()), None) if now.generation == generation => continue,
                        _ => (close::REPLACED, "a newer stream carries the tunnel".to_owned()),
                    };
                    let _ = sink.send(text(&ServerMessage::End { reason: reason.clone() })).await;
                    (code, reason)
                }
                event = events.recv() => {
                    let delivered = match event {
                        Some(event) => carrier.deliver(&mut sink, event).await,
                        None => false,
                    };
                    if delivered {
                        continue;
                    }
                    return;
                }
                _ = keepalive.tick() => {
                    if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                        return;
                    }
                    continue;
                }
            };
            let reason: String = reason.chars().take(100).collect();
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            let _ = sink.send(Message::Close(Some(frame))).await;
            return;
        }
    };
    let up = async {
        let refused = carrier.read_client(stream).await;
        if let Some((code, reason)) = refused {
            tracing::warn!(tunnel = %t.id, reason, code, "closing a tunnel stream");
        }
        let _ = stop_tx.send(refused);
    };
    tokio::pin!(down);
    tokio::select! {
        () = &mut down => {}
        () = up => down.await,
    }
    let open: Vec<u32> = lock(&carrier.conns).keys().copied().collect();
    for conn in open {
        carrier.abort(conn, "the tunnel stream ended");
    }
    t.detach_carrier();
}
