//! A websh client for tests: speaks the stream of docs/protocol.md, checks that output offsets are
//! contiguous (no lost or duplicated byte), and acknowledges what it has read.

use crate::Api;
use futures_util::{SinkExt, StreamExt};
use gatehouse_shared::websh::decode_output;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct Term {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Every output byte received, in order, starting at `start`.
    pub output: Vec<u8>,
    pub start: u64,
    /// Control messages received.
    pub messages: Vec<Value>,
    /// The close code, once closed.
    pub closed: Option<u16>,
    acked: u64,
    /// Accept output that continues past a gap (a viewer the gateway moved ahead).
    pub accept_skips: bool,
    /// Bytes the gateway skipped for this viewer.
    pub skipped: u64,
}

impl Term {
    /// Opens the stream at `url` (a `ws://` URL with any query) as `api`'s user.
    pub async fn connect(url: &str, api: &Api, origin: Option<&str>) -> Result<Term, String> {
        Self::connect_tls(url, api, origin, None).await
    }

    /// Like `connect`, trusting `tls` for a `wss://` URL.
    pub async fn connect_tls(
        url: &str,
        api: &Api,
        origin: Option<&str>,
        tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    ) -> Result<Term, String> {
        Self::open(url, Some(&api.cookie), None, origin, tls).await
    }

    /// Opens the stream with an API token (`Authorization: Bearer`), as the CLI and scripts do.
    pub async fn connect_bearer(url: &str, token: &str) -> Result<Term, String> {
        Self::open(url, None, Some(token), None, None).await
    }

    /// Opens the stream with no sign-in at all (a guest whose URL carries its ticket).
    pub async fn connect_anonymous(url: &str, origin: Option<&str>) -> Result<Term, String> {
        Self::open(url, None, None, origin, None).await
    }

    async fn open(
        url: &str,
        cookie: Option<&str>,
        bearer: Option<&str>,
        origin: Option<&str>,
        tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    ) -> Result<Term, String> {
        let ws = dial(url, cookie, bearer, origin, tls).await?;
        let start = url
            .split("resume_from=")
            .nth(1)
            .and_then(|v| v.split('&').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(Term {
            ws,
            output: Vec::new(),
            start,
            messages: Vec::new(),
            closed: None,
            acked: start,
            accept_skips: false,
            skipped: 0,
        })
    }

    /// The offset just past the last byte received.
    pub fn end(&self) -> u64 {
        self.start + self.output.len() as u64
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output).into_owned()
    }

    pub async fn type_text(&mut self, text: &str) {
        self.ws
            .send(Message::Binary(text.as_bytes().to_vec().into()))
            .await
            .expect("send input");
    }

    pub async fn control(&mut self, msg: Value) {
        self.ws
            .send(Message::Text(msg.to_string().into()))
            .await
            .expect("send control");
    }

    /// Reads frames until `done` holds, the stream closes, or `limit` passes.
    /// Returns whether `done` held.
    pub async fn read_until(&mut self, limit: Duration, done: impl Fn(&Term) -> bool) -> bool {
        read_until(self, limit, done).await
    }

    async fn take(&mut self, frame: Message) {
        match frame {
            Message::Binary(data) => {
                let (offset, bytes) = decode_output(&data).expect("an output frame");
                if self.accept_skips && offset > self.end() {
                    // The gateway moved this viewer ahead; it said so in a notice before.
                    self.skipped += offset - self.end();
                    self.start += offset - self.end();
                }
                assert_eq!(
                    offset,
                    self.end(),
                    "output must continue exactly where it left off"
                );
                self.output.extend_from_slice(bytes);
                // Acknowledge as the console and `gate` do with nothing left to render (this
                // client renders each frame as it reads it): a few kilobytes at a time.
                if self.end() - self.acked >= gatehouse_shared::websh::flow::ACK_IDLE {
                    self.acked = self.end();
                    let ack = json!({"t": "ack", "offset": self.acked});
                    let _ = self.ws.send(Message::Text(ack.to_string().into())).await;
                }
            }
            other => note(other, &mut self.messages, &mut self.closed),
        }
    }

    /// Reads without acknowledging anything (a viewer that stopped rendering).
    pub async fn read_raw_frame(&mut self, limit: Duration) -> Option<Vec<u8>> {
        match tokio::time::timeout(limit, self.ws.next()).await {
            Ok(Some(Ok(Message::Binary(data)))) => Some(data.to_vec()),
            _ => None,
        }
    }

    pub fn has_message(&self, kind: &str) -> Option<&Value> {
        self.messages.iter().find(|m| m["t"] == kind)
    }

    /// Drops the connection without a close handshake (a network drop).
    pub fn drop_connection(self) {
        drop(self.ws);
    }
}

impl Term {
    /// Keystroke echo: types `keys` single keys into a shell running `stty echo -icanon; cat`
    /// (set up by the caller) and times each one's way back through the PTY.
    pub async fn echo_latencies(&mut self, keys: usize) -> Vec<Duration> {
        let mut samples = Vec::with_capacity(keys);
        for i in 0..keys {
            let key = b'a' + (i % 26) as u8;
            let mark = self.output.len();
            let sent = Instant::now();
            self.type_text(&(key as char).to_string()).await;
            let echoed = self
                .read_until(Duration::from_secs(10), |t| t.output[mark..].contains(&key))
                .await;
            assert!(echoed, "key {i} was not echoed");
            samples.push(sent.elapsed());
        }
        samples
    }
}

/// Keeps a control message, or the close code of a close frame (pings and pongs say nothing).
pub fn note(frame: Message, messages: &mut Vec<Value>, closed: &mut Option<u16>) {
    match frame {
        Message::Text(text) => messages.push(serde_json::from_str(&text).expect("control JSON")),
        Message::Close(frame) => {
            *closed = Some(frame.map(|f| u16::from(f.code)).unwrap_or(1005));
        }
        _ => {}
    }
}

/// A test client of one of the gateway's streams: its socket, its close code, and what it
/// makes of a frame.
pub trait StreamClient {
    fn socket(&mut self) -> &mut WebSocketStream<MaybeTlsStream<TcpStream>>;
    fn closed_code(&mut self) -> &mut Option<u16>;
    fn take_frame(&mut self, frame: Message) -> impl std::future::Future<Output = ()>;
}

/// Implements [`StreamClient`] for a client with fields `ws` and `closed` and a method `take`.
macro_rules! stream_client {
    ($client:ty) => {
        impl $crate::terminal::StreamClient for $client {
            fn socket(&mut self) -> &mut WebSocketStream<MaybeTlsStream<TcpStream>> {
                &mut self.ws
            }

            fn closed_code(&mut self) -> &mut Option<u16> {
                &mut self.closed
            }

            fn take_frame(&mut self, frame: Message) -> impl std::future::Future<Output = ()> {
                self.take(frame)
            }
        }
    };
}
pub(crate) use stream_client;

stream_client!(Term);

/// Reads `client`'s frames until `done` holds, the stream closes, or `limit` passes; whether
/// `done` held.
pub async fn read_until<C: StreamClient>(
    client: &mut C,
    limit: Duration,
    done: impl Fn(&C) -> bool,
) -> bool {
    let deadline = Instant::now() + limit;
    while !done(client) {
        if client.closed_code().is_some() {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        match tokio::time::timeout(left, client.socket().next()).await {
            Err(_) => return false,
            Ok(None) | Ok(Some(Err(_))) => *client.closed_code() = Some(1006),
            Ok(Some(Ok(frame))) => client.take_frame(frame).await,
        }
    }
    true
}

/// Opens a WebSocket at `url` with a sign-in cookie or a bearer token and an `Origin`, as the
/// gateway's streams expect; `Err` carries the refusal (an HTTP status before the upgrade).
pub async fn dial(
    url: &str,
    cookie: Option<&str>,
    bearer: Option<&str>,
    origin: Option<&str>,
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
) -> Result<WebSocketStream<MaybeTlsStream<TcpStream>>, String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    let headers = request.headers_mut();
    if let Some(cookie) = cookie {
        headers.insert(
            "cookie",
            HeaderValue::from_str(cookie).map_err(|e| e.to_string())?,
        );
    }
    if let Some(token) = bearer {
        headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?,
        );
    }
    if let Some(origin) = origin {
        headers.insert(
            "origin",
            HeaderValue::from_str(origin).map_err(|e| e.to_string())?,
        );
    }
    let connector = tls.map(tokio_tungstenite::Connector::Rustls);
    // The read buffer `gate` keeps, so the bench's client costs what the CLI's does.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(gatehouse_shared::agent_link::WS_READ_BUFFER_BYTES);
    let (ws, _) =
        tokio_tungstenite::connect_async_tls_with_config(request, Some(config), true, connector)
            .await
            .map_err(|e| e.to_string())?;
    Ok(ws)
}

/// The `p` quantile (0..=1) of `samples`.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)]
}

/// Replays an asciicast recording with `asciinema cat` (asciinema from PyPI, installed by
/// `scripts/setup.sh`) and returns what it printed; fails the test if asciinema refuses it.
pub fn asciinema_cat(dir: &std::path::Path, cast: &str) -> String {
    let file = dir.join("replay.cast");
    std::fs::write(&file, cast).expect("write the recording");
    let replay = std::process::Command::new("asciinema")
        .arg("cat")
        .arg(&file)
        .output()
        .expect("asciinema (installed by scripts/setup.sh)");
    assert!(
        replay.status.success(),
        "asciinema cat failed: {}",
        String::from_utf8_lossy(&replay.stderr)
    );
    String::from_utf8_lossy(&replay.stdout).into_owned()
}
