//! Tunnel connections: one TCP connection per channel to a target the agent's own
//! `--tunnel-allow` permits (loopback by default, whatever the gateway asks), with credit-based
//! flow control each way and half-close. Bytes from the target go out on the link's bulk queue,
//! which the writer takes turns with, so a bulk transfer never queues ahead of a keystroke
//! echo by more than one frame, and while someone types on this agent they are held to the
//! typing rate file transfers keep to (`files::pace`). One connection failing never touches
//! another.

use crate::files::channel::Outboxes;
use crate::files::pace::Pacer;
use gatehouse_shared::agent_link::{AgentMessage, ChannelId, DataKind};
use gatehouse_shared::tunnel::{self, AllowRule, CHUNK, WINDOW};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// Bytes read from a target at a time while someone types on this agent: a frame is sent
/// whole, so a keystroke's echo on the same link waits behind at most one of these at every hop
/// (with 256 KiB frames its p99 during a bulk transfer was 2.6–3.8× idle; 16 KiB is one TLS
/// record, so no hop holds the echo behind more than one record's work). Otherwise reads take
/// whole `CHUNK`s, which carry a bulk transfer a quarter faster than 64 KiB frames.
const TYPING_READ_BYTES: usize = 16 * 1024;
const _: () = assert!(TYPING_READ_BYTES <= CHUNK);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn control(msg: &AgentMessage) -> Message {
    // Serialising our own enum cannot fail.
    Message::text(serde_json::to_string(msg).unwrap_or_default())
}

/// Bytes of the channel id, kind and offset before a data frame's payload.
const FRAME_HEAD: usize = 16 + 1 + 8;

/// What the gateway writes into a connection: bytes, or the end of its sending side.
enum Input {
    Bytes(Bytes),
    Eof,
}

/// One live connection.
struct Conn {
    input: mpsc::UnboundedSender<Input>,
    /// The next gateway offset expected: frames must follow one another exactly.
    expected: Mutex<u64>,
    /// The gateway has consumed this connection's bytes before this offset.
    acked: Mutex<u64>,
    credit: Notify,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Conn {
    fn abort(&self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

/// Every tunnel connection of the agent, and the rules they keep to.
pub struct TunnelService {
    allow: Vec<AllowRule>,
    pacer: Arc<Pacer>,
    conns: Mutex<HashMap<ChannelId, Arc<Conn>>>,
}

impl TunnelService {
    /// `allow`: the `--tunnel-allow` rules (already parsed; empty means the loopback default);
    /// `pacer`: the agent's typing pacer.
    pub fn new(allow: Vec<AllowRule>, pacer: Arc<Pacer>) -> Arc<Self> {
        let allow = if allow.is_empty() {
            // The default parses: it is a constant of ours.
            tunnel::parse_rules(tunnel::DEFAULT_AGENT_ALLOW).unwrap_or_default()
        } else {
            allow
        };
        Arc::new(TunnelService {
            allow,
            pacer,
            conns: Mutex::new(HashMap::new()),
        })
    }

    fn allowed_text(&self) -> String {
        let rules: Vec<String> = self
            .allow
            .iter()
            .map(|r| match r.port {
                Some(p) => format!("{}:{p}", r.host),
                None => format!("{}:*", r.host),
            })
            .collect();
        rules.join(", ")
    }

    /// The addresses of `host:port` this agent may connect to: all of them when the name itself
    /// is allowed, else those whose address is; an error naming the rules when none is.
    async fn targets(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let refused = || {
            format!(
                "the agent's --tunnel-allow does not allow {host}:{port} (it allows {})",
                self.allowed_text()
            )
        };
        let name = tunnel::normalize_host(host).map_err(|_| refused())?;
        let by_name = tunnel::allows(&self.allow, &name, port);
        let addrs = tokio::net::lookup_host((name.as_str(), port))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?;
        let allowed: Vec<SocketAddr> = addrs
            .filter(|a| by_name || tunnel::allows(&self.allow, &a.ip().to_string(), port))
            .collect();
        if allowed.is_empty() {
            return Err(refused());
        }
        Ok(allowed)
    }

    /// Opens `channel` to `host:port` and answers `opened` or `open_failed` with the reason.
    pub fn connect(self: &Arc<Self>, channel: ChannelId, host: String, port: u16, out: Outboxes) {
        let service = self.clone();
        tokio::spawn(async move {
            let stream = match service.targets(&host, port).await {
                Ok(addrs) => TcpStream::connect(&addrs[..])
                    .await
                    .map_err(|e| format!("cannot connect to {host}:{port}: {e}")),
                Err(refused) => Err(refused),
            };
            let stream = match stream {
                Ok(stream) => stream,
                Err(message) => {
                    tracing::info!(%channel, %message, "tunnel connection refused");
                    let msg = AgentMessage::OpenFailed { channel, message };
                    let _ = out.control.send(control(&msg)).await;
                    return;
                }
            };
            // Small writes (a request line, a keystroke) go at once.
            let _ = stream.set_nodelay(true);
            service.start(channel, stream, out).await;
        });
    }

    async fn start(self: Arc<Self>, channel: ChannelId, stream: TcpStream, out: Outboxes) {
        let (read, write) = stream.into_split();
        let (input, input_rx) = mpsc::unbounded_channel();
        let conn = Arc::new(Conn {
            input,
            expected: Mutex::new(0),
            acked: Mutex::new(0),
            credit: Notify::new(),
            tasks: Mutex::new(Vec::new()),
        });
        lock(&self.conns).insert(channel, conn.clone());
        if out
            .control
            .send(control(&AgentMessage::Opened { channel }))
            .await
            .is_err()
        {
            lock(&self.conns).remove(&channel);
            return;
        }
        let (done_tx, mut done_rx) = mpsc::channel::<Result<(), String>>(2);
        let reader = tokio::spawn(pump_out(
            channel,
            read,
            conn.clone(),
            (out.bulk.clone(), self.pacer.clone()),
            done_tx.clone(),
        ));
        let writer = tokio::spawn(pump_in(
            channel,
            write,
            input_rx,
            out.control.clone(),
            done_tx,
        ));
        lock(&conn.tasks).extend([reader, writer]);
        let service = self.clone();
        let watcher = tokio::spawn(async move {
            // Both directions must finish; the first failure ends the connection at once.
            let mut error = None;
            for _ in 0..2 {
                match done_rx.recv().await {
                    Some(Ok(())) => {}
                    Some(Err(e)) => {
                        error = Some(e);
                        break;
                    }
                    None => break,
                }
            }
            let Some(conn) = lock(&service.conns).remove(&channel) else {
                return;
            };
            conn.abort();
            let msg = AgentMessage::TunnelClosed { channel, error };
            // On the bulk queue: after the connection's last bytes, never before them.
            let _ = out.bulk.send(control(&msg)).await;
        });
        // The watcher is not aborted with the pumps: it reports their end.
        drop(watcher);
    }

    /// Gateway bytes for `channel` starting at `offset` (empty: its end of stream). A frame out
    /// of order ends the connection.
    pub fn data(&self, channel: ChannelId, offset: u64, bytes: Bytes) {
        let Some(conn) = lock(&self.conns).get(&channel).cloned() else {
            return;
        };
        let in_order = {
            let mut expected = lock(&conn.expected);
            let ok = *expected == offset;
            *expected += bytes.len() as u64;
            ok
        };
        let op = if bytes.is_empty() {
            Input::Eof
        } else {
            Input::Bytes(bytes)
        };
        if !in_order || conn.input.send(op).is_err() {
            tracing::warn!(%channel, "tunnel data out of order; ending the connection");
            self.close(channel);
        }
    }

    /// The gateway consumed `channel`'s bytes before `offset`.
    pub fn ack(&self, channel: ChannelId, offset: u64) {
        if let Some(conn) = lock(&self.conns).get(&channel) {
            let mut acked = lock(&conn.acked);
            *acked = (*acked).max(offset);
            drop(acked);
            conn.credit.notify_one();
        }
    }

    /// Ends `channel` at once (the gateway closed it); true when it was a tunnel connection.
    pub fn close(&self, channel: ChannelId) -> bool {
        match lock(&self.conns).remove(&channel) {
            Some(conn) => {
                conn.abort();
                true
            }
            None => false,
        }
    }

    /// Ends every connection (the link dropped: the gateway forgot them all).
    pub fn abort_all(&self) {
        for (_, conn) in lock(&self.conns).drain() {
            conn.abort();
        }
    }
}

/// Target → gateway: reads within the gateway's credit, straight into the frame that carries
/// the bytes (no copy), then the end of stream as an empty frame.
async fn pump_out(
    channel: ChannelId,
    mut read: OwnedReadHalf,
    conn: Arc<Conn>,
    (bulk, pacer): (mpsc::Sender<Message>, Arc<Pacer>),
    done: mpsc::Sender<Result<(), String>>,
) {
    let mut sent: u64 = 0;
    let result = loop {
        let room = loop {
            let wait = conn.credit.notified();
            let acked = *lock(&conn.acked);
            let room = (acked + WINDOW).saturating_sub(sent);
            if room > 0 {
                break room;
            }
            wait.await;
        };
        let size = if pacer.typing_now() {
            TYPING_READ_BYTES
        } else {
            CHUNK
        };
        let want = size.min(room as usize);
        let mut frame = Vec::with_capacity(FRAME_HEAD + want);
        frame.extend_from_slice(channel.0.as_bytes());
        frame.push(DataKind::TunnelData as u8);
        frame.extend_from_slice(&sent.to_be_bytes());
        // Into the frame's spare capacity, never zeroed first: zeroing 256 KiB for each read
        // (which usually brings far less) was a fifth of the agent's CPU in a bulk transfer.
        let n = match (&mut read).take(want as u64).read_buf(&mut frame).await {
            Ok(n) => n,
            Err(e) => break Err(format!("reading from the target: {e}")),
        };
        pacer.pace(n).await;
        if bulk.send(Message::Binary(frame.into())).await.is_err() {
            break Err("the link is gone".to_owned());
        }
        if n == 0 {
            break Ok(());
        }
        sent += n as u64;
    };
    let _ = done.send(result).await;
}

/// Gateway → target: writes in order, credits what was written, half-closes on the end.
async fn pump_in(
    channel: ChannelId,
    mut write: OwnedWriteHalf,
    mut input: mpsc::UnboundedReceiver<Input>,
    control_out: mpsc::Sender<Message>,
    done: mpsc::Sender<Result<(), String>>,
) {
    let mut written: u64 = 0;
    let result = loop {
        match input.recv().await {
            Some(Input::Bytes(bytes)) => {
                if let Err(e) = write.write_all(&bytes).await {
                    break Err(format!("writing to the target: {e}"));
                }
                written += bytes.len() as u64;
                // Credit is cumulative, so a full control queue may skip one: a later one
                // carries it. The queue is drained by the link's writer within a frame.
                let msg = AgentMessage::TunnelCredit {
                    channel,
                    offset: written,
                };
                if control_out.send(control(&msg)).await.is_err() {
                    break Err("the link is gone".to_owned());
                }
            }
            Some(Input::Eof) => {
                // A target that already closed its side may refuse this; nothing is lost.
                let _ = write.shutdown().await;
                break Ok(());
            }
            None => break Err("the connection was closed".to_owned()),
        }
    };
    let _ = done.send(result).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_allowed_targets_resolve_and_refusals_name_the_rules() {
        let rules = tunnel::parse_rules(&["127.0.0.1:5000"]).expect("rules");
        let service = TunnelService::new(rules, Arc::new(Pacer::new(0)));
        let ok = service.targets("127.0.0.1", 5000).await.expect("allowed");
        assert!(ok.iter().all(|a| a.port() == 5000 && a.ip().is_loopback()));
        for (host, port) in [("127.0.0.1", 5001), ("10.0.0.5", 5000), ("::1", 5000)] {
            let refused = service.targets(host, port).await.expect_err(host);
            assert!(refused.contains("--tunnel-allow"), "{refused}");
            assert!(refused.contains("127.0.0.1:5000"), "{refused}");
        }
        assert!(service.targets("a b", 5000).await.is_err());
    }

    #[tokio::test]
    async fn the_default_is_loopback_only() {
        let service = TunnelService::new(Vec::new(), Arc::new(Pacer::new(0)));
        assert!(service.targets("127.0.0.1", 22).await.is_ok());
        assert!(service.targets("::1", 22).await.is_ok());
        assert!(service.targets("192.0.2.1", 22).await.is_err());
    }
}
