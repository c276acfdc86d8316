//! Live tunnels and their connections on agent links. A tunnel is the gateway's record of one
//! target opened by one owner; its client stream (the carrier) comes and goes. Each TCP
//! connection is one channel on the agent link ([`TunnelConn`]), whose events the link's reader
//! hands to the carrier's queue without waiting: that queue stays bounded because the agent's
//! bytes are only accepted within the credit the client granted (`tunnel::WINDOW`).

use crate::core::gateway::hub::{AgentLink, Channel};
use axum::body::Bytes;
use chrono::{DateTime, Utc};
use gatehouse_shared::agent_link::{AgentMessage, ChannelId, GatewayMessage, OutputStream};
use gatehouse_shared::tunnel::{TunnelView, WINDOW};
use gatehouse_shared::{ServerId, TokenId, UserRef, WorkSessionId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How a tunnel ended: the close code its carrier gets, and the reason it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelEnd {
    pub code: u16,
    pub reason: String,
}

/// What a carrier watches: which carrier is current, and whether the tunnel ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarrierState {
    pub generation: u64,
    pub ended: Option<TunnelEnd>,
}

/// Counters of a tunnel, over every carrier it had.
#[derive(Debug, Default)]
pub struct Stats {
    pub open: AtomicU64,
    pub total: AtomicU64,
    pub up: AtomicU64,
    pub down: AtomicU64,
}

/// One tunnel the gateway keeps open.
pub struct LiveTunnel {
    pub id: Uuid,
    pub owner: UserRef,
    pub token: Option<TokenId>,
    pub work_session: Option<WorkSessionId>,
    pub server_id: ServerId,
    pub server_name: String,
    pub remote_host: String,
    pub remote_port: u16,
    pub created_at: DateTime<Utc>,
    pub stats: Stats,
    state: watch::Sender<CarrierState>,
    carriers: AtomicU64,
    /// Since when no carrier has been attached (`None` while one is).
    uncarried_since: Mutex<Option<std::time::Instant>>,
}

impl LiveTunnel {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: Uuid,
        owner: UserRef,
        token: Option<TokenId>,
        work_session: Option<WorkSessionId>,
        server_id: ServerId,
        server_name: String,
        remote_host: String,
        remote_port: u16,
        created_at: DateTime<Utc>,
    ) -> Arc<Self> {
        Arc::new(LiveTunnel {
            id,
            owner,
            token,
            work_session,
            server_id,
            server_name,
            remote_host,
            remote_port,
            created_at,
            stats: Stats::default(),
            state: watch::Sender::new(CarrierState::default()),
            carriers: AtomicU64::new(0),
            uncarried_since: Mutex::new(Some(std::time::Instant::now())),
        })
    }

    /// Makes a new carrier the current one (an older one sees it and closes); returns its
    /// generation and what it watches.
    pub fn attach_carrier(&self) -> (u64, watch::Receiver<CarrierState>) {
        let mut generation = 0;
        self.state.send_modify(|s| {
            s.generation += 1;
            generation = s.generation;
        });
        self.carriers.fetch_add(1, Ordering::Relaxed);
        *lock(&self.uncarried_since) = None;
        (generation, self.state.subscribe())
    }

    pub fn detach_carrier(&self) {
        if self.carriers.fetch_sub(1, Ordering::Relaxed) == 1 {
            *lock(&self.uncarried_since) = Some(std::time::Instant::now());
        }
    }

    /// How long no client has carried the tunnel (zero while one does).
    pub fn uncarried_for(&self) -> std::time::Duration {
        lock(&self.uncarried_since).map_or(std::time::Duration::ZERO, |t| t.elapsed())
    }

    /// Ends the tunnel; false when it had already ended (the first end wins).
    pub fn end(&self, end: TunnelEnd) -> bool {
        let mut first = false;
        self.state.send_if_modified(|s| {
            first = s.ended.is_none();
            if first {
                s.ended = Some(end);
            }
            first
        });
        first
    }

    pub fn ended(&self) -> bool {
        self.state.borrow().ended.is_some()
    }

    pub fn view(&self) -> TunnelView {
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        TunnelView {
            id: self.id,
            owner: self.owner.clone(),
            server_id: self.server_id,
            server: self.server_name.clone(),
            remote_host: self.remote_host.clone(),
            remote_port: self.remote_port,
            work_session: self.work_session,
            created_at: self.created_at,
            carrier_connected: self.carriers.load(Ordering::Relaxed) > 0,
            connections_open: get(&self.stats.open),
            connections_total: get(&self.stats.total),
            bytes_up: get(&self.stats.up),
            bytes_down: get(&self.stats.down),
        }
    }
}

/// Every live tunnel, by id.
#[derive(Default)]
pub struct Tunnels {
    map: Mutex<HashMap<Uuid, Arc<LiveTunnel>>>,
}

impl Tunnels {
    pub fn add(&self, tunnel: Arc<LiveTunnel>) {
        lock(&self.map).insert(tunnel.id, tunnel);
    }

    pub fn get(&self, id: Uuid) -> Option<Arc<LiveTunnel>> {
        lock(&self.map).get(&id).cloned()
    }

    pub fn remove(&self, id: Uuid) -> Option<Arc<LiveTunnel>> {
        lock(&self.map).remove(&id)
    }

    pub fn all(&self) -> Vec<Arc<LiveTunnel>> {
        lock(&self.map).values().cloned().collect()
    }
}

/// What the agent link delivers to a carrier about one of its connections.
#[derive(Debug)]
pub enum ConnEvent {
    /// The agent connected it to the target.
    Opened { conn: u32 },
    /// It could not be opened (the agent said why).
    OpenFailed { conn: u32, message: String },
    /// Bytes from the target (empty: the target's end of stream).
    Data { conn: u32, bytes: Bytes },
    /// The target has taken the client's bytes before `offset`.
    Credit { conn: u32, offset: u64 },
    /// The connection is over (both ways, or failed).
    Closed { conn: u32, error: Option<String> },
}

#[derive(Debug, Default)]
struct Flow {
    /// The client consumed the target's bytes before this: the agent may send one window past.
    granted: u64,
    /// The next target offset expected.
    received: u64,
    ended: bool,
}

/// One TCP connection of a tunnel: a channel on the agent link.
pub struct TunnelConn {
    pub id: ChannelId,
    pub conn: u32,
    pub tunnel: Arc<LiveTunnel>,
    /// The client's address as it reported it (`open.peer`).
    pub peer: Option<String>,
    pub opened_at: std::time::Instant,
    pub up: AtomicU64,
    pub down: AtomicU64,
    events: mpsc::UnboundedSender<ConnEvent>,
    flow: Mutex<Flow>,
}

impl TunnelConn {
    pub fn new(
        conn: u32,
        tunnel: Arc<LiveTunnel>,
        peer: Option<String>,
        events: mpsc::UnboundedSender<ConnEvent>,
    ) -> Arc<Self> {
        Arc::new(TunnelConn {
            id: ChannelId(Uuid::new_v4()),
            conn,
            tunnel,
            peer,
            opened_at: std::time::Instant::now(),
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            events,
            flow: Mutex::default(),
        })
    }

    pub fn work_session(&self) -> Option<WorkSessionId> {
        self.tunnel.work_session
    }

    /// Target bytes at `offset`; false when out of order or beyond the client's credit (the
    /// caller then ends the connection, and nothing was queued).
    pub fn on_data(&self, offset: u64, bytes: Bytes) -> bool {
        let mut flow = lock(&self.flow);
        if flow.ended {
            return true;
        }
        let end = offset.saturating_add(bytes.len() as u64);
        if offset != flow.received || end > flow.granted.saturating_add(WINDOW) {
            return false;
        }
        flow.received = end;
        let n = bytes.len() as u64;
        self.down.fetch_add(n, Ordering::Relaxed);
        self.tunnel.stats.down.fetch_add(n, Ordering::Relaxed);
        let _ = self.events.send(ConnEvent::Data {
            conn: self.conn,
            bytes,
        });
        true
    }

    pub fn on_credit(&self, offset: u64) {
        if !lock(&self.flow).ended {
            let _ = self.events.send(ConnEvent::Credit {
                conn: self.conn,
                offset,
            });
        }
    }

    /// The connection is over; only the first call reports it.
    pub fn on_closed(&self, error: Option<String>) {
        let mut flow = lock(&self.flow);
        if !flow.ended {
            flow.ended = true;
            let _ = self.events.send(ConnEvent::Closed {
                conn: self.conn,
                error,
            });
        }
    }

    /// The client consumed the target's bytes before `offset`: passes the credit on.
    pub fn grant(&self, link: &AgentLink, offset: u64) {
        {
            let mut flow = lock(&self.flow);
            if offset <= flow.granted || offset > flow.received {
                return;
            }
            flow.granted = offset;
        }
        link.try_send(&GatewayMessage::Ack {
            channel: self.id,
            stream: OutputStream::Tunnel,
            offset,
        });
    }
}

/// Routes a tunnel message from the agent to its connection (only this link's channels).
pub fn on_control(link: &AgentLink, msg: AgentMessage) {
    match msg {
        AgentMessage::TunnelCredit { channel, offset } => {
            if let Some(conn) = link.tunnel_conn(channel) {
                conn.on_credit(offset);
            }
        }
        AgentMessage::TunnelClosed { channel, error } => {
            if let Some(Channel::Tunnel(conn)) = link.remove(channel) {
                conn.on_closed(error);
            }
        }
        _ => {}
    }
}

/// Routes target bytes (`frame[start..]`, at `offset`) to their connection without a copy; a
/// connection that breaks its credit is ended, the link goes on.
pub fn on_data(link: &AgentLink, channel: ChannelId, offset: u64, frame: &Bytes, start: usize) {
    if let Some(conn) = link.tunnel_conn(channel) {
        if !conn.on_data(offset, frame.slice(start..)) {
            tracing::warn!(%channel, "tunnel data beyond its credit; ending the connection");
            link.remove(channel);
            link.try_send(&GatewayMessage::Close { channel });
            conn.on_closed(Some("the agent sent data beyond its credit".into()));
        }
    }
}
