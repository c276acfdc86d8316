//! The registry of live agent links and live terminals, and each link's one channel table.

use crate::core::gate::GatePass;
use crate::core::gateway::capture::ExecRunState;
use crate::core::gateway::exec_job::LiveJob;
use crate::core::gateway::files::FileChannel;
use crate::core::gateway::terminal::Terminal;
use crate::core::gateway::tunnel::{TunnelConn, Tunnels};
use crate::store::servers::ServerRow;
use axum::extract::ws::{Message, WebSocket};
use futures_util::SinkExt;
use gatehouse_shared::agent_link::{encode_data, ChannelId, DataKind, GatewayMessage, TtySize};
use gatehouse_shared::files::FileOp;
use gatehouse_shared::{ServerId, UserId, WorkSessionId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The socket half the gateway writes agent-link frames into.
pub type LinkSink = futures_util::stream::SplitSink<WebSocket, Message>;

/// One connected agent.
pub struct AgentLink {
    pub server_id: ServerId,
    pub server_name: String,
    /// The agent runs as root and can switch users.
    pub privileged: bool,
    /// What the agent announced in its `hello` (`pty`, `exec`, `files`, ...).
    capabilities: Vec<String>,
    /// Small messages the gateway itself generates (credit, opens, closes): never dropped, so a
    /// stream can never stall for a lost `ack`; written by the link's writer task.
    control: mpsc::UnboundedSender<Message>,
    /// Viewer-driven frames (keystrokes, resizes) go straight to the socket: no hand-off on the
    /// keystroke path, and a slow link pushes back on the viewer.
    sink: Arc<tokio::sync::Mutex<LinkSink>>,
    pending: Mutex<HashMap<ChannelId, oneshot::Sender<Result<(), LinkError>>>>,
    /// Every channel open on this link, of every kind. Frames from the agent are routed only
    /// through this table, so an agent can reach nothing opened on another agent's link; and
    /// teardown, the watcher and lag recovery each walk this one table.
    channels: Mutex<HashMap<ChannelId, Channel>>,
}

/// One channel on an agent link.
#[derive(Clone)]
pub enum Channel {
    Pty(Arc<Terminal>),
    Exec(Arc<ExecRunState>),
    File(Arc<FileChannel>),
    Tunnel(Arc<TunnelConn>),
}

impl Channel {
    /// The work session that authorized the channel (none for an API token's command).
    pub fn work_session(&self) -> Option<WorkSessionId> {
        match self {
            Channel::Pty(term) => term.work_session,
            Channel::Exec(run) => run.work_session,
            Channel::File(file) => file.work_session,
            Channel::Tunnel(conn) => conn.work_session(),
        }
    }
}

/// What an exec runs: a shell command line, or an argv run without a shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    Shell(String),
    Argv(Vec<String>),
}

/// How an exec's standard streams are connected: standard input kept open for the stream,
/// and a pseudo-terminal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecIo {
    pub stdin: bool,
    pub tty: Option<TtySize>,
}

/// Why a channel could not be opened on an agent link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the agent disconnected")]
    Disconnected,
    #[error("the agent did not answer in time")]
    NoAnswer,
    /// The agent refused, and said why.
    #[error("{0}")]
    Refused(String),
}

fn text(msg: &GatewayMessage) -> Message {
    // Serialising our own enum cannot fail.
    Message::Text(serde_json::to_string(msg).unwrap_or_default().into())
}

impl AgentLink {
    pub fn new(
        server_id: ServerId,
        server_name: String,
        privileged: bool,
        capabilities: Vec<String>,
        control: mpsc::UnboundedSender<Message>,
        sink: Arc<tokio::sync::Mutex<LinkSink>>,
    ) -> Self {
        Self {
            server_id,
            server_name,
            privileged,
            capabilities,
            control,
            sink,
            pending: Mutex::new(HashMap::new()),
            channels: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the agent announced `capability` in its `hello`.
    pub fn supports(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// Queues a control message; false when the link is gone.
    pub async fn send(&self, msg: &GatewayMessage) -> bool {
        self.control.send(text(msg)).is_ok()
    }

    /// Like `send`, for callers that cannot wait.
    pub fn try_send(&self, msg: &GatewayMessage) {
        let _ = self.control.send(text(msg));
    }

    /// Asks the writer to close the socket with `code`.
    pub fn try_close(&self, code: u16, reason: &str) {
        let frame = axum::extract::ws::CloseFrame {
            code,
            reason: reason.to_owned().into(),
        };
        let _ = self.control.send(Message::Close(Some(frame)));
    }

    /// Writes a frame straight to the socket.
    async fn write(&self, msg: Message) -> bool {
        self.sink.lock().await.send(msg).await.is_ok()
    }

    pub async fn send_input(&self, channel: ChannelId, bytes: &[u8]) -> bool {
        let frame = encode_data(channel, DataKind::Input, bytes);
        self.write(Message::Binary(frame.into())).await
    }

    /// Writes a control message straight to the socket, in order with the data frames written
    /// the same way (an upload's `file_end` must not overtake its last bytes).
    pub async fn send_now(&self, msg: &GatewayMessage) -> bool {
        self.write(text(msg)).await
    }

    /// Writes one upload frame straight to the socket, like keystrokes: bulk data never sits
    /// in the control queue ahead of credit, and the tokio mutex is fair, so a keystroke waits
    /// behind at most the one frame being written. A slow link pushes back on the upload.
    pub async fn send_file_data(&self, frame: impl Into<axum::body::Bytes>) -> bool {
        self.write(Message::Binary(frame.into())).await
    }

    pub async fn resize(&self, channel: ChannelId, cols: u16, rows: u16) -> bool {
        self.write(text(&GatewayMessage::Resize {
            channel,
            cols,
            rows,
        }))
        .await
    }

    /// Opens a terminal on the agent; the pass is the gate's proof that it may.
    pub async fn open_pty(
        &self,
        channel: ChannelId,
        pass: GatePass,
        cols: u16,
        rows: u16,
    ) -> Result<(), LinkError> {
        let msg = GatewayMessage::OpenPty {
            channel,
            cols,
            rows,
            user: pass.run_as().map(str::to_owned),
            env: Vec::new(),
            allow_root: pass.allow_root(),
            provision: pass.provision(),
            provision_groups: pass.provision_groups(),
        };
        self.open(channel, &msg).await
    }

    /// Starts a command on the agent; the pass is the gate's proof that it may.
    pub async fn open_exec(
        &self,
        channel: ChannelId,
        pass: GatePass,
        program: Program,
        env: Vec<(String, String)>,
        timeout_secs: u64,
        io: ExecIo,
    ) -> Result<(), LinkError> {
        let (command, argv) = match program {
            Program::Shell(command) => (command, None),
            Program::Argv(argv) => (String::new(), Some(argv)),
        };
        let msg = GatewayMessage::Exec {
            channel,
            command,
            argv,
            clean_env: pass.clean_env(),
            user: pass.run_as().map(str::to_owned),
            env,
            timeout_secs,
            allow_root: pass.allow_root(),
            provision: pass.provision(),
            provision_groups: pass.provision_groups(),
            stdin: io.stdin,
            tty: io.tty,
        };
        self.open(channel, &msg).await
    }

    /// Asks the agent to open a file channel (its answer comes as file replies); the pass is
    /// the gate's proof that it may. False when the link is gone.
    pub async fn open_file(&self, channel: ChannelId, pass: GatePass, op: FileOp) -> bool {
        let msg = GatewayMessage::FileOpen {
            channel,
            op,
            user: pass.run_as().map(str::to_owned),
            allow_root: pass.allow_root(),
            confine: pass.confine(),
            provision: pass.provision(),
            provision_groups: pass.provision_groups(),
        };
        self.send(&msg).await
    }

    /// Opens one tunnel connection on the agent; the pass is the gate's proof that the tunnel
    /// may (one pass covers every connection of a carrier).
    pub async fn open_tunnel(
        &self,
        channel: ChannelId,
        _pass: &GatePass,
        host: String,
        port: u16,
    ) -> Result<(), LinkError> {
        let msg = GatewayMessage::TunnelConnect {
            channel,
            host,
            port,
        };
        self.open(channel, &msg).await
    }

    /// Sends an open request and waits for the agent's `opened` or `open_failed`.
    async fn open(&self, channel: ChannelId, msg: &GatewayMessage) -> Result<(), LinkError> {
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(channel, tx);
        if !self.send(msg).await {
            lock(&self.pending).remove(&channel);
            return Err(LinkError::Disconnected);
        }
        match tokio::time::timeout(std::time::Duration::from_secs(15), rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(LinkError::Disconnected),
            Err(_) => {
                lock(&self.pending).remove(&channel);
                Err(LinkError::NoAnswer)
            }
        }
    }

    /// Whether `channel` is this link's: open, or waiting for the agent's answer.
    pub fn knows(&self, channel: ChannelId) -> bool {
        lock(&self.pending).contains_key(&channel) || lock(&self.channels).contains_key(&channel)
    }

    pub fn resolve_open(&self, channel: ChannelId, result: Result<(), LinkError>) -> bool {
        match lock(&self.pending).remove(&channel) {
            Some(tx) => {
                let _ = tx.send(result);
                true
            }
            None => false,
        }
    }

    /// Carries `term` on this link (after its open, or a re-attach).
    pub fn attach_terminal(self: &Arc<Self>, term: &Arc<Terminal>) {
        lock(&self.channels).insert(term.id, Channel::Pty(term.clone()));
        term.attach_link(self.clone());
    }

    pub fn add_exec(self: &Arc<Self>, channel: ChannelId, run: Arc<ExecRunState>) {
        run.attach_link(self);
        lock(&self.channels).insert(channel, Channel::Exec(run));
    }

    pub fn add_file(&self, channel: Arc<FileChannel>) {
        lock(&self.channels).insert(channel.id, Channel::File(channel));
    }

    pub fn add_tunnel_conn(&self, conn: Arc<TunnelConn>) {
        lock(&self.channels).insert(conn.id, Channel::Tunnel(conn));
    }

    pub fn tunnel_conn(&self, channel: ChannelId) -> Option<Arc<TunnelConn>> {
        match lock(&self.channels).get(&channel) {
            Some(Channel::Tunnel(conn)) => Some(conn.clone()),
            _ => None,
        }
    }

    /// The terminal `channel` names on this link, if it is one.
    pub fn pty(&self, channel: ChannelId) -> Option<Arc<Terminal>> {
        match lock(&self.channels).get(&channel) {
            Some(Channel::Pty(term)) => Some(term.clone()),
            _ => None,
        }
    }

    pub fn exec(&self, channel: ChannelId) -> Option<Arc<ExecRunState>> {
        match lock(&self.channels).get(&channel) {
            Some(Channel::Exec(run)) => Some(run.clone()),
            _ => None,
        }
    }

    pub fn file(&self, channel: ChannelId) -> Option<Arc<FileChannel>> {
        match lock(&self.channels).get(&channel) {
            Some(Channel::File(file)) => Some(file.clone()),
            _ => None,
        }
    }

    /// Takes the command run `channel` names off the link (its end arrived).
    pub fn take_exec(&self, channel: ChannelId) -> Option<Arc<ExecRunState>> {
        let mut channels = lock(&self.channels);
        match channels.get(&channel) {
            Some(Channel::Exec(_)) => match channels.remove(&channel) {
                Some(Channel::Exec(run)) => Some(run),
                _ => None,
            },
            _ => None,
        }
    }

    /// Forgets a channel that ended, whatever its kind.
    pub fn remove(&self, channel: ChannelId) -> Option<Channel> {
        lock(&self.channels).remove(&channel)
    }

    /// Channels authorized by `session`.
    pub fn channels_of(&self, session: WorkSessionId) -> Vec<Channel> {
        lock(&self.channels)
            .values()
            .filter(|c| c.work_session() == Some(session))
            .cloned()
            .collect()
    }

    /// Every channel on this link.
    pub fn all_channels(&self) -> Vec<Channel> {
        lock(&self.channels).values().cloned().collect()
    }

    /// Takes every channel off the link (when it drops).
    pub fn drain(&self) -> Vec<Channel> {
        lock(&self.channels).drain().map(|(_, c)| c).collect()
    }
}

/// Live links by server, and live terminals by id.
#[derive(Default)]
pub struct Hub {
    links: Mutex<HashMap<ServerId, Arc<AgentLink>>>,
    terminals: Mutex<HashMap<ChannelId, Arc<Terminal>>>,
    /// Places held by terminals being opened, by slot number: (owner, server). Locked only
    /// after `terminals`, so a count over both is one consistent reading.
    opening: Mutex<HashMap<u64, (UserId, ServerId)>>,
    next_slot: std::sync::atomic::AtomicU64,
    /// Command jobs whose stream can be attached, by job id (dropped a while after they end).
    jobs: Mutex<HashMap<uuid::Uuid, Arc<LiveJob>>>,
    /// Live tunnels (`core::gateway::tunnel`).
    pub tunnels: Tunnels,
}

/// Which terminal cap an open would exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CapReached {
    #[error("the user's open terminals are at their cap")]
    PerUser,
    #[error("the server's open terminals are at their cap")]
    PerServer,
}

/// A place held for a terminal while it opens, so that two opens racing for the last place
/// cannot both take it. Dropping it gives the place back; [`Hub::add_terminal`] turns it into
/// the terminal itself.
pub struct TerminalSlot<'a> {
    hub: &'a Hub,
    id: u64,
}

impl Drop for TerminalSlot<'_> {
    fn drop(&mut self) {
        lock(&self.hub.opening).remove(&self.id);
    }
}

impl Hub {
    /// Registers a link; refused (false) when the server already has one, which stays.
    pub fn add_link(&self, link: Arc<AgentLink>) -> bool {
        let mut links = lock(&self.links);
        if links.contains_key(&link.server_id) {
            return false;
        }
        links.insert(link.server_id, link);
        true
    }

    pub fn is_connected(&self, server: ServerId) -> bool {
        lock(&self.links).contains_key(&server)
    }

    /// Removes `link` if it is still the registered one.
    pub fn remove_link(&self, link: &Arc<AgentLink>) {
        let mut links = lock(&self.links);
        if links
            .get(&link.server_id)
            .is_some_and(|l| Arc::ptr_eq(l, link))
        {
            links.remove(&link.server_id);
        }
    }

    pub fn all_links(&self) -> Vec<Arc<AgentLink>> {
        lock(&self.links).values().cloned().collect()
    }

    pub fn link(&self, server: ServerId) -> Option<Arc<AgentLink>> {
        lock(&self.links).get(&server).cloned()
    }

    /// The live link of the agent of the server entry `row`, when there is one.
    pub fn link_of(&self, row: Option<&ServerRow>) -> Option<Arc<AgentLink>> {
        self.link(row?.server_id().ok()?)
    }

    /// Holds a place for a new terminal of `owner` on `server`, unless the owner already has
    /// `per_user` live terminals or the server `per_server`, counting those still opening.
    pub fn reserve_terminal(
        &self,
        owner: UserId,
        server: ServerId,
        per_user: usize,
        per_server: usize,
    ) -> Result<TerminalSlot<'_>, CapReached> {
        let terminals = lock(&self.terminals);
        let mut opening = lock(&self.opening);
        let live = |t: &&Arc<Terminal>| {
            let snap = t.snapshot();
            snap.ended.is_none() && snap.exit.is_none()
        };
        let users = terminals
            .values()
            .filter(live)
            .filter(|t| t.owner == owner)
            .count()
            + opening.values().filter(|(o, _)| *o == owner).count();
        if users >= per_user {
            return Err(CapReached::PerUser);
        }
        let servers = terminals.values().filter(|t| t.server_id == server).count()
            + opening.values().filter(|(_, s)| *s == server).count();
        if servers >= per_server {
            return Err(CapReached::PerServer);
        }
        let id = self
            .next_slot
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        opening.insert(id, (owner, server));
        Ok(TerminalSlot { hub: self, id })
    }

    /// Registers a terminal that opened in `slot`.
    pub fn add_terminal(&self, terminal: Arc<Terminal>, slot: TerminalSlot<'_>) {
        lock(&self.terminals).insert(terminal.id, terminal);
        drop(slot);
    }

    /// Registers a terminal the store knew but memory did not (after a restart): it held its
    /// place before the restart, so no cap applies.
    pub fn restore_terminal(&self, terminal: Arc<Terminal>) {
        lock(&self.terminals).insert(terminal.id, terminal);
    }

    pub fn terminal(&self, id: ChannelId) -> Option<Arc<Terminal>> {
        lock(&self.terminals).get(&id).cloned()
    }

    pub fn remove_terminal(&self, id: ChannelId) {
        lock(&self.terminals).remove(&id);
    }

    /// Live terminals authorized by `session`.
    pub fn terminals_of(&self, session: WorkSessionId) -> Vec<Arc<Terminal>> {
        lock(&self.terminals)
            .values()
            .filter(|t| t.work_session == Some(session))
            .cloned()
            .collect()
    }

    pub fn all_terminals(&self) -> Vec<Arc<Terminal>> {
        lock(&self.terminals).values().cloned().collect()
    }

    /// Live terminals on `server`.
    pub fn terminals_on(&self, server: ServerId) -> Vec<Arc<Terminal>> {
        lock(&self.terminals)
            .values()
            .filter(|t| t.server_id == server)
            .cloned()
            .collect()
    }

    pub fn add_job(&self, job: Arc<LiveJob>) {
        lock(&self.jobs).insert(job.id, job);
    }

    pub fn job(&self, id: uuid::Uuid) -> Option<Arc<LiveJob>> {
        lock(&self.jobs).get(&id).cloned()
    }

    pub fn remove_job(&self, id: uuid::Uuid) {
        lock(&self.jobs).remove(&id);
    }

    /// Jobs authorized by `session`.
    pub fn jobs_of(&self, session: WorkSessionId) -> Vec<Arc<LiveJob>> {
        lock(&self.jobs)
            .values()
            .filter(|j| j.work_session == Some(session))
            .cloned()
            .collect()
    }

    pub fn all_jobs(&self) -> Vec<Arc<LiveJob>> {
        lock(&self.jobs).values().cloned().collect()
    }
}
