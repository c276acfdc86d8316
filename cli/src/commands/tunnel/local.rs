//! One local TCP connection through a tunnel: opened on the carrier (waiting for one while it
//! reconnects), then pumped both ways: local bytes within the remote credit, straight into the
//! frame that carries them; remote bytes written in order and credited once written; either
//! side's end of stream passed on as a half-close. A refused connection is closed here with the
//! reason on stderr; the listener and the other connections go on.

use super::carrier::{Outbox, Shared};
use gatehouse_shared::tunnel::{encode_frame, ClientMessage, CHUNK, FRAME_HEADER, WINDOW};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// How long a new local connection waits for the carrier to come (back) up.
const WAIT_FOR_CARRIER: Duration = Duration::from_secs(30);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn control(msg: &ClientMessage) -> Message {
    // Serialising our own enum cannot fail.
    Message::text(serde_json::to_string(msg).unwrap_or_default())
}

/// What the carrier delivers to a connection.
enum Inbound {
    Data(Bytes),
    Eof,
    Closed(Option<String>),
}

/// The carrier's handle on one connection.
pub struct Conn {
    pub id: u32,
    inbound: mpsc::UnboundedSender<Inbound>,
    opened: Mutex<Option<oneshot::Sender<Result<(), String>>>>,
    /// The remote end took our bytes before this offset.
    credit: Mutex<u64>,
    credited: Notify,
}

impl Conn {
    pub fn opened(&self, result: Result<(), String>) {
        if let Some(tx) = lock(&self.opened).take() {
            let _ = tx.send(result);
        }
    }

    /// Remote bytes (empty: the remote end of stream).
    pub fn data(&self, bytes: Bytes) {
        let msg = if bytes.is_empty() {
            Inbound::Eof
        } else {
            Inbound::Data(bytes)
        };
        let _ = self.inbound.send(msg);
    }

    pub fn credit(&self, offset: u64) {
        let mut credit = lock(&self.credit);
        *credit = (*credit).max(offset);
        drop(credit);
        self.credited.notify_one();
    }

    pub fn closed(&self, error: Option<String>) {
        self.opened(Err(error.clone().unwrap_or_else(|| "closed".into())));
        let _ = self.inbound.send(Inbound::Closed(error));
    }
}

/// Carries `stream` through the tunnel until both sides are done or one fails.
pub async fn serve(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let mut watch = shared.out.subscribe();
    let out = match tokio::time::timeout(WAIT_FOR_CARRIER, watch.wait_for(Option::is_some)).await {
        Ok(Ok(out)) => out.clone(),
        _ => None,
    };
    let Some(out) = out else {
        eprintln!("gate: no tunnel stream to carry a connection from {peer}; closing it");
        return;
    };
    let id = shared.next.fetch_add(1, Ordering::Relaxed);
    let (inbound, inbound_rx) = mpsc::unbounded_channel();
    let (opened_tx, opened_rx) = oneshot::channel();
    let conn = Arc::new(Conn {
        id,
        inbound,
        opened: Mutex::new(Some(opened_tx)),
        credit: Mutex::new(0),
        credited: Notify::new(),
    });
    shared.insert(conn.clone());
    let open = ClientMessage::Open {
        conn: id,
        peer: Some(peer.to_string()),
    };
    if out.send(control(&open)).is_err() {
        shared.take(id);
        return;
    }
    match opened_rx.await {
        Ok(Ok(())) => {}
        Ok(Err(message)) => {
            eprintln!("gate: a tunnel connection from {peer} was refused: {message}");
            return;
        }
        Err(_) => return,
    }
    let (read, write) = stream.into_split();
    let mut up = tokio::spawn(pump_up(id, read, conn.clone(), out.clone()));
    let mut down = tokio::spawn(pump_down(id, write, inbound_rx, out.clone()));
    // The first failure ends both directions; two clean ends are a finished connection.
    let (first, other) = tokio::select! {
        r = &mut up => (r, down),
        r = &mut down => (r, up),
    };
    match first {
        Ok(Ok(())) => {
            let _ = other.await;
        }
        _ => {
            other.abort();
            if shared.take(id).is_some() {
                let _ = out.send(control(&ClientMessage::Close { conn: id }));
            }
        }
    }
}

/// Local → remote, within the remote credit; the local end of stream becomes an empty frame.
async fn pump_up(id: u32, mut read: OwnedReadHalf, conn: Arc<Conn>, out: Outbox) -> Result<(), ()> {
    let mut sent: u64 = 0;
    loop {
        let room = loop {
            let wait = conn.credited.notified();
            let room = (*lock(&conn.credit) + WINDOW).saturating_sub(sent);
            if room > 0 {
                break room;
            }
            wait.await;
        };
        let want = CHUNK.min(room as usize);
        let mut frame = encode_frame(id, &[]);
        frame.resize(FRAME_HEADER + want, 0);
        let n = read.read(&mut frame[FRAME_HEADER..]).await.map_err(drop)?;
        frame.truncate(FRAME_HEADER + n);
        out.send(Message::Binary(frame.into())).map_err(drop)?;
        if n == 0 {
            return Ok(());
        }
        sent += n as u64;
    }
}

/// Remote → local, in order, crediting what was written; the remote end of stream half-closes.
async fn pump_down(
    id: u32,
    mut write: OwnedWriteHalf,
    mut inbound: mpsc::UnboundedReceiver<Inbound>,
    out: Outbox,
) -> Result<(), ()> {
    let mut written: u64 = 0;
    loop {
        match inbound.recv().await {
            Some(Inbound::Data(bytes)) => {
                write.write_all(&bytes).await.map_err(drop)?;
                written += bytes.len() as u64;
                let credit = ClientMessage::Credit {
                    conn: id,
                    offset: written,
                };
                out.send(control(&credit)).map_err(drop)?;
            }
            Some(Inbound::Eof) => return write.shutdown().await.map_err(drop),
            Some(Inbound::Closed(None)) => return Ok(()),
            Some(Inbound::Closed(Some(error))) => {
                eprintln!("gate: a tunnel connection ended: {error}");
                return Err(());
            }
            None => return Err(()),
        }
    }
}
