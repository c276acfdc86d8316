//! The link to the gateway: dial out, say hello, serve channels, and on any loss reconnect with
//! exponential backoff and full jitter (1 s up to 60 s), forever. PTYs outlive a dropped link for
//! the grace period and are re-attached when the gateway asks; file channels end with the link.

use crate::config::AgentConfig;
use crate::exec::{Environment, ExecOutcome, ExecRun, Io, Program};
use crate::files::channel::{FileService, OpenAs, Outboxes};
use crate::files::paths;
use crate::flow::{Next, Outflow};
use crate::pty::PtySession;
use crate::tunnel::TunnelService;
use crate::{host, runas, tls};
use futures_util::{SinkExt, StreamExt};
use gatehouse_shared::agent_link::{
    decode_data, encode_output, split_offset, AgentMessage, ChannelId, DataKind, GatewayMessage,
    LivePty, OutputStream, KEEPALIVE_SECS, MAX_MESSAGE_BYTES, PROTOCOL_VERSION,
    WS_READ_BUFFER_BYTES,
};
use rand::Rng;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::Connector;

/// Frames waiting for the socket; small so a busy channel cannot queue far ahead of keystrokes.
const OUTBOX: usize = 16;
/// File-read frames waiting for the socket, beside the outbox; the writer alternates between
/// the two, so at most one bulk frame goes out between two control or terminal frames.
const BULK_OUTBOX: usize = 2;
const BACKOFF_BASE_MS: u64 = 1_000;
const BACKOFF_CAP_MS: u64 = 60_000;

pub struct Agent {
    config: AgentConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
    grace: Duration,
    ptys: Mutex<HashMap<ChannelId, Arc<PtySession>>>,
    execs: Mutex<HashMap<ChannelId, Arc<ExecRun>>>,
    files: Arc<FileService>,
    tunnels: Arc<TunnelService>,
}

type Outbox = mpsc::Sender<Message>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn control(msg: &AgentMessage) -> Message {
    // Serialising our own enum cannot fail.
    Message::text(serde_json::to_string(msg).unwrap_or_default())
}

/// Tells the gateway (which audits it) that an account was created to open `channel`.
pub fn report_provisioned(tx: &Outbox, channel: ChannelId, run_as: &runas::RunAs) {
    if run_as.provisioned {
        let msg = control(&AgentMessage::Provisioned {
            channel,
            user: run_as.name.clone(),
            groups: run_as.joined.clone(),
        });
        // The outbox is bounded; a full one means a gone or stuck link, and the open fails anyway.
        let _ = tx.try_send(msg);
    }
}

impl Agent {
    /// `typing_rate_mib`: what file transfers may use together while someone types in a terminal
    /// here (MiB/s; 0 = no cap; see `files::pace`).
    pub fn new(
        config: AgentConfig,
        grace: Duration,
        typing_rate_mib: u64,
    ) -> Result<Arc<Self>, String> {
        tls::check_server_url(&config.server)?;
        let roots = paths::parse_roots(&config.file_roots)?;
        let tunnel_allow = gatehouse_shared::tunnel::parse_rules(&config.tunnel_allow)
            .map_err(|e| format!("--tunnel-allow: {e}"))?;
        let tls = if config.server.starts_with("https://") {
            Some(tls::client_config(config.ca.as_deref())?)
        } else {
            None
        };
        let files = FileService::new(roots, typing_rate_mib);
        let tunnels = TunnelService::new(tunnel_allow, files.pacer());
        Ok(Arc::new(Agent {
            config,
            tls,
            grace,
            ptys: Mutex::new(HashMap::new()),
            execs: Mutex::new(HashMap::new()),
            files,
            tunnels,
        }))
    }

    /// Runs forever: connect, serve, back off, reconnect.
    pub async fn run(self: Arc<Self>) {
        tokio::spawn(self.clone().reap_detached());
        let mut attempt: u32 = 0;
        loop {
            let started = Instant::now();
            match self.connect_and_serve().await {
                Ok(()) => tracing::warn!("link closed by the server"),
                Err(e) => tracing::warn!(error = %e, "link failed"),
            }
            self.detach_all();
            self.files.abort_all();
            self.tunnels.abort_all();
            // A link that lived a while was healthy: start the backoff from the bottom.
            if started.elapsed() > Duration::from_secs(30) {
                attempt = 0;
            }
            let cap = BACKOFF_CAP_MS.min(BACKOFF_BASE_MS.saturating_mul(1 << attempt.min(10)));
            let delay = rand::thread_rng().gen_range(0..=cap);
            attempt = attempt.saturating_add(1);
            tracing::info!(delay_ms = delay, attempt, "reconnecting");
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
    }

    async fn connect_and_serve(self: &Arc<Self>) -> Result<(), String> {
        let url = tls::link_url(&self.config.server);
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| e.to_string())?;
        let credential = format!(
            "Agent {}:{}",
            self.config.agent_id, self.config.agent_secret
        );
        request.headers_mut().insert(
            "authorization",
            HeaderValue::from_str(&credential).map_err(|_| "bad credential characters")?,
        );
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES))
            .read_buffer_size(WS_READ_BUFFER_BYTES);
        let connector = self.tls.clone().map(Connector::Rustls);
        let (socket, _) = tokio_tungstenite::connect_async_tls_with_config(
            request,
            Some(ws_config),
            true,
            connector,
        )
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
        tracing::info!(%url, "connected");
        let (mut sink, mut stream) = socket.split();
        let (tx, mut rx) = mpsc::channel::<Message>(OUTBOX);
        let (bulk_tx, mut bulk_rx) = mpsc::channel::<Message>(BULK_OUTBOX);
        let writer = tokio::spawn(async move {
            let mut keepalive = tokio::time::interval(Duration::from_secs(KEEPALIVE_SECS));
            let mut bulk_turn = false;
            loop {
                // Whichever queue did not go last goes first: fair to both, and a keystroke
                // echo never waits behind more than one file frame.
                let (msg, bulk) = if bulk_turn {
                    tokio::select! {
                        biased;
                        Some(m) = bulk_rx.recv() => (m, true),
                        msg = rx.recv() => match msg { Some(m) => (m, false), None => break },
                        _ = keepalive.tick() => (Message::Ping(Vec::new().into()), false),
                    }
                } else {
                    tokio::select! {
                        biased;
                        msg = rx.recv() => match msg { Some(m) => (m, false), None => break },
                        Some(m) = bulk_rx.recv() => (m, true),
                        _ = keepalive.tick() => (Message::Ping(Vec::new().into()), false),
                    }
                };
                bulk_turn = !bulk;
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let out = Outboxes {
            control: tx.clone(),
            bulk: bulk_tx,
        };
        tx.send(control(&self.hello()))
            .await
            .map_err(|_| "link closed")?;
        let idle = Duration::from_secs(KEEPALIVE_SECS * 3);
        let result = loop {
            let frame = match tokio::time::timeout(idle, stream.next()).await {
                Err(_) => {
                    break Err("no traffic from the server; assuming the link is dead".to_owned())
                }
                Ok(None) => break Ok(()),
                Ok(Some(Err(e))) => break Err(e.to_string()),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                Message::Text(text) => match serde_json::from_str::<GatewayMessage>(&text) {
                    Ok(msg) => self.handle(msg, &out).await,
                    Err(e) => tracing::warn!(error = %e, "ignoring a malformed control message"),
                },
                Message::Binary(data) => match decode_data(&data) {
                    Some((channel, DataKind::Input, bytes)) => {
                        let pty = lock(&self.ptys).get(&channel).cloned();
                        if let Some(pty) = pty {
                            self.files.keystroke();
                            pty.write(bytes).await;
                        } else if let Some(run) = lock(&self.execs).get(&channel) {
                            // Queued, never awaited: a command that does not read its input
                            // must not hold up the link (the gateway keeps to stdin credit).
                            run.input(bytes);
                        }
                    }
                    Some((channel, DataKind::FileData, payload)) => {
                        self.files.data(channel, payload);
                    }
                    Some((channel, DataKind::TunnelData, payload)) => {
                        if let Some((offset, bytes)) = split_offset(payload) {
                            let start = data.len() - bytes.len();
                            self.tunnels.data(channel, offset, data.slice(start..));
                        }
                    }
                    _ => tracing::warn!("ignoring a malformed data frame"),
                },
                Message::Close(_) => break Ok(()),
                _ => {}
            }
        };
        drop(tx);
        drop(out);
        writer.abort();
        result
    }

    fn hello(&self) -> AgentMessage {
        let ptys = lock(&self.ptys)
            .values()
            .map(|p| LivePty {
                channel: p.id,
                output_offset: p.output.end(),
                exited: p.exit_code(),
            })
            .collect();
        AgentMessage::Hello {
            version: PROTOCOL_VERSION,
            agent_version: env!("CARGO_PKG_VERSION").to_owned(),
            hostname: host::hostname(),
            os: std::env::consts::OS.to_owned(),
            platform: std::env::consts::ARCH.to_owned(),
            // `exec_io`: exec takes `stdin`, `tty`, `signal` and `stdin_eof`. `files.keep`: a
            // write may carry the mode and modification time to give the file.
            capabilities: vec![
                "pty".into(),
                "exec".into(),
                "exec_io".into(),
                "files".into(),
                "files.keep".into(),
                gatehouse_shared::tunnel::CAPABILITY.into(),
            ],
            privileged: host::privileged(),
            ptys,
        }
    }

    async fn handle(self: &Arc<Self>, msg: GatewayMessage, out: &Outboxes) {
        let tx = &out.control;
        match msg {
            GatewayMessage::Welcome {
                version,
                server_name,
            } => {
                tracing::info!(version, server_name, "gateway accepted the link");
            }
            GatewayMessage::OpenPty {
                channel,
                cols,
                rows,
                user,
                env,
                allow_root,
                provision,
                provision_groups,
            } => {
                let request = runas::Request {
                    user: user.as_deref(),
                    allow_root,
                    provision,
                    groups: &provision_groups,
                };
                let opened = runas::resolve(request).and_then(|run_as| {
                    report_provisioned(tx, channel, &run_as);
                    PtySession::spawn(channel, cols, rows, &run_as, &env, |_| {})
                });
                match opened {
                    Ok(pty) => {
                        lock(&self.ptys).insert(channel, pty.clone());
                        let _ = tx.send(control(&AgentMessage::Opened { channel })).await;
                        let generation = pty.output.rewind(0);
                        spawn_pty_sender(tx.clone(), pty, generation);
                    }
                    Err(message) => {
                        let _ = tx
                            .send(control(&AgentMessage::OpenFailed { channel, message }))
                            .await;
                    }
                }
            }
            GatewayMessage::Attach {
                channel,
                from_offset,
            } => {
                let pty = lock(&self.ptys).get(&channel).cloned();
                match pty {
                    Some(pty) => {
                        *lock(&pty.detached_since) = None;
                        pty.output.ack(from_offset);
                        let generation = pty.output.rewind(from_offset);
                        spawn_pty_sender(tx.clone(), pty, generation);
                    }
                    None => {
                        let message = "no such terminal on this agent (it ended)".to_owned();
                        let _ = tx
                            .send(control(&AgentMessage::OpenFailed { channel, message }))
                            .await;
                    }
                }
            }
            GatewayMessage::Resize {
                channel,
                cols,
                rows,
            } => {
                let pty = lock(&self.ptys).get(&channel).cloned();
                if let Some(pty) = pty {
                    pty.resize(cols, rows).await;
                }
                let run = lock(&self.execs).get(&channel).cloned();
                if let Some(run) = run {
                    run.resize(cols, rows).await;
                }
            }
            GatewayMessage::Signal { channel, signal } => {
                if let Some(run) = lock(&self.execs).get(&channel) {
                    if let Ok(signal) = nix::sys::signal::Signal::try_from(signal.number()) {
                        run.signal(signal);
                    }
                }
            }
            GatewayMessage::StdinEof { channel } => {
                if let Some(run) = lock(&self.execs).get(&channel) {
                    run.eof();
                }
            }
            GatewayMessage::Close { channel } => {
                if self.files.close(channel) || self.tunnels.close(channel) {
                    return;
                }
                if let Some(pty) = lock(&self.ptys).remove(&channel) {
                    pty.kill();
                }
                if let Some(run) = lock(&self.execs).remove(&channel) {
                    run.kill();
                }
            }
            GatewayMessage::Ack {
                channel,
                stream,
                offset,
            } => {
                if stream == OutputStream::File {
                    self.files.ack(channel, offset);
                } else if stream == OutputStream::Tunnel {
                    self.tunnels.ack(channel, offset);
                } else if let Some(flow) = self.flow(channel, stream) {
                    flow.ack(offset);
                }
            }
            GatewayMessage::Exec {
                channel,
                command,
                argv,
                clean_env,
                user,
                env,
                timeout_secs,
                allow_root,
                provision,
                provision_groups,
                stdin,
                tty,
            } => {
                let run_as = runas::resolve(runas::Request {
                    user: user.as_deref(),
                    allow_root,
                    provision,
                    groups: &provision_groups,
                });
                if let Ok(run_as) = &run_as {
                    report_provisioned(tx, channel, run_as);
                }
                // An argv takes precedence: the gateway then sends no command line at all.
                let program = match &argv {
                    Some(words) => Program::Argv(words),
                    None => Program::Shell(&command),
                };
                let env = if clean_env {
                    Environment::Clean
                } else {
                    Environment::Account(&env)
                };
                let io = Io {
                    stdin,
                    tty: tty.map(|t| (t.cols, t.rows)),
                };
                self.start_exec(channel, program, run_as, env, timeout_secs, io, tx)
                    .await;
            }
            GatewayMessage::FileOpen {
                channel,
                op,
                user,
                allow_root,
                confine,
                provision,
                provision_groups,
            } => {
                let request = OpenAs {
                    user,
                    allow_root,
                    provision,
                    groups: provision_groups,
                    confine,
                };
                self.files.open(channel, op, request, out.clone())
            }
            GatewayMessage::FileEnd { channel } => self.files.end(channel),
            GatewayMessage::TunnelConnect {
                channel,
                host,
                port,
            } => self.tunnels.connect(channel, host, port, out.clone()),
        }
    }

    fn flow(&self, channel: ChannelId, stream: OutputStream) -> Option<Arc<Outflow>> {
        match stream {
            OutputStream::Pty => lock(&self.ptys).get(&channel).map(|p| p.output.clone()),
            OutputStream::Stdout => lock(&self.execs).get(&channel).map(|r| r.stdout.clone()),
            OutputStream::Stderr => lock(&self.execs).get(&channel).map(|r| r.stderr.clone()),
            // File reads and tunnels have their own credit (`files::channel`, `tunnel`).
            OutputStream::File | OutputStream::Tunnel => None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn start_exec(
        self: &Arc<Self>,
        channel: ChannelId,
        program: Program<'_>,
        run_as: Result<runas::RunAs, String>,
        env: Environment<'_>,
        timeout_secs: u64,
        io: Io,
        tx: &Outbox,
    ) {
        let (done_tx, done_rx) = oneshot::channel::<ExecOutcome>();
        let timeout = Duration::from_secs(timeout_secs.clamp(1, 24 * 3600));
        let (credit_tx, mut credit_rx) = mpsc::unbounded_channel::<u64>();
        let started = run_as.and_then(|run_as| {
            ExecRun::spawn(
                program,
                &run_as,
                env,
                timeout,
                io,
                credit_tx,
                move |outcome| {
                    let _ = done_tx.send(outcome);
                },
            )
        });
        let run = match started {
            Ok(run) => run,
            Err(message) => {
                let _ = tx
                    .send(control(&AgentMessage::OpenFailed { channel, message }))
                    .await;
                return;
            }
        };
        lock(&self.execs).insert(channel, run.clone());
        let _ = tx.send(control(&AgentMessage::Opened { channel })).await;
        // Stdin credit goes out as the writer reports it (awaited here, off the read loop).
        let credit_out = tx.clone();
        tokio::spawn(async move {
            while let Some(offset) = credit_rx.recv().await {
                let msg = control(&AgentMessage::StdinCredit { channel, offset });
                if credit_out.send(msg).await.is_err() {
                    break;
                }
            }
        });
        let (out, err) = (run.stdout.rewind(0), run.stderr.rewind(0));
        let out = send_stream(
            tx.clone(),
            channel,
            OutputStream::Stdout,
            run.stdout.clone(),
            out,
        );
        let err = send_stream(
            tx.clone(),
            channel,
            OutputStream::Stderr,
            run.stderr.clone(),
            err,
        );
        let tx = tx.clone();
        let agent = self.clone();
        tokio::spawn(async move {
            let (a, b) = tokio::join!(out, err);
            let outcome = done_rx.await;
            lock(&agent.execs).remove(&channel);
            if let (Next::Finished, Next::Finished, Ok(o)) = (a, b, outcome) {
                let msg = AgentMessage::ExecDone {
                    channel,
                    exit_code: o.exit_code,
                    timed_out: o.timed_out,
                    duration_ms: o.duration_ms,
                    signal: o.signal,
                };
                let _ = tx.send(control(&msg)).await;
            }
        });
    }

    fn detach_all(&self) {
        let now = Instant::now();
        for pty in lock(&self.ptys).values() {
            lock(&pty.detached_since).get_or_insert(now);
        }
    }

    /// Kills PTYs that stayed detached longer than the grace period.
    async fn reap_detached(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1).min(self.grace));
        loop {
            tick.tick().await;
            let expired: Vec<Arc<PtySession>> = {
                let mut ptys = lock(&self.ptys);
                let ids: Vec<ChannelId> = ptys
                    .values()
                    .filter(|p| lock(&p.detached_since).is_some_and(|t| t.elapsed() >= self.grace))
                    .map(|p| p.id)
                    .collect();
                ids.iter().filter_map(|id| ptys.remove(id)).collect()
            };
            for pty in expired {
                tracing::info!(channel = %pty.id, "grace period over; ending the detached terminal");
                pty.kill();
            }
        }
    }
}

/// Streams one output flow on the link until it finishes or a newer link takes over.
async fn send_stream(
    tx: Outbox,
    channel: ChannelId,
    stream: OutputStream,
    flow: Arc<Outflow>,
    generation: u64,
) -> Next {
    loop {
        match flow.next_chunk(generation).await {
            Next::Chunk(offset, bytes) => {
                let frame = encode_output(channel, stream, offset, &bytes);
                if tx.send(Message::Binary(frame.into())).await.is_err() {
                    return Next::Superseded;
                }
            }
            other => return other,
        }
    }
}

fn spawn_pty_sender(tx: Outbox, pty: Arc<PtySession>, generation: u64) {
    tokio::spawn(async move {
        let next = send_stream(
            tx.clone(),
            pty.id,
            OutputStream::Pty,
            pty.output.clone(),
            generation,
        )
        .await;
        if next == Next::Finished {
            let msg = AgentMessage::Exited {
                channel: pty.id,
                code: pty.exit_code(),
            };
            let _ = tx.send(control(&msg)).await;
        }
    });
}
