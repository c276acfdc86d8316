//! An exec-stream client for tests: speaks `WS /ws/exec/{id}` (docs/protocol.md, "Exec stream"),
//! keeps every run's stdout and stderr apart, checks that each stream's offsets are contiguous
//! (no lost or repeated byte), and acknowledges what it read.

use crate::terminal::{dial, note, read_until, stream_client};
use crate::Api;
use futures_util::SinkExt;
use gatehouse_shared::exec_stream::{decode_output, format_resume, StreamName};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct ExecStream {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Each (run, stream)'s bytes in order, starting at `starts`' offset.
    pub output: BTreeMap<(u16, StreamName), Vec<u8>>,
    pub starts: BTreeMap<(u16, StreamName), u64>,
    /// Control messages received, in order.
    pub messages: Vec<Value>,
    /// The close code, once closed.
    pub closed: Option<u16>,
}

impl ExecStream {
    /// Opens `url` as `api`'s user with an optional `Origin`, resuming from `resume`.
    pub async fn connect(
        url: &str,
        api: &Api,
        origin: Option<&str>,
        resume: &[(u16, StreamName, u64)],
    ) -> Result<Self, String> {
        Self::open(url, Some(&api.cookie), None, origin, resume).await
    }

    /// Opens `url` with an API token.
    pub async fn connect_bearer(url: &str, token: &str) -> Result<Self, String> {
        Self::open(url, None, Some(token), None, &[]).await
    }

    async fn open(
        url: &str,
        cookie: Option<&str>,
        bearer: Option<&str>,
        origin: Option<&str>,
        resume: &[(u16, StreamName, u64)],
    ) -> Result<Self, String> {
        let full = if resume.is_empty() {
            url.to_owned()
        } else {
            format!("{url}?resume_from={}", format_resume(resume))
        };
        let ws = dial(&full, cookie, bearer, origin, None).await?;
        let starts = resume.iter().map(|(r, s, o)| ((*r, *s), *o)).collect();
        Ok(Self {
            ws,
            output: BTreeMap::new(),
            starts,
            messages: Vec::new(),
            closed: None,
        })
    }

    /// The offset just past the last byte received of `stream` of run `run`.
    pub fn end(&self, run: u16, stream: StreamName) -> u64 {
        let start = self.starts.get(&(run, stream)).copied().unwrap_or(0);
        start
            + self
                .output
                .get(&(run, stream))
                .map_or(0, |o| o.len() as u64)
    }

    pub fn bytes(&self, run: u16, stream: StreamName) -> &[u8] {
        self.output
            .get(&(run, stream))
            .map_or(&[], |o| o.as_slice())
    }

    pub fn text(&self, run: u16, stream: StreamName) -> String {
        String::from_utf8_lossy(self.bytes(run, stream)).into_owned()
    }

    /// Every offset reached, for `?resume_from=`.
    pub fn offsets(&self, runs: u16) -> Vec<(u16, StreamName, u64)> {
        (0..runs)
            .flat_map(|run| StreamName::BOTH.map(|s| (run, s, self.end(run, s))))
            .collect()
    }

    pub fn has(&self, kind: &str) -> Option<&Value> {
        self.messages.iter().find(|m| m["t"] == kind)
    }

    pub async fn stdin(&mut self, bytes: &[u8]) {
        self.ws
            .send(Message::Binary(bytes.to_vec().into()))
            .await
            .expect("send stdin");
    }

    pub async fn control(&mut self, msg: Value) {
        self.send_text(msg.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("send control");
    }

    /// Reads frames until `done` holds, the stream closes, or `limit` passes; whether `done` held.
    pub async fn read_until(&mut self, limit: Duration, done: impl Fn(&Self) -> bool) -> bool {
        read_until(self, limit, done).await
    }

    /// Reads until the server closes the stream; its close code.
    pub async fn until_closed(&mut self, limit: Duration) -> Option<u16> {
        self.read_until(limit, |s| s.closed.is_some()).await;
        self.closed
    }

    async fn take(&mut self, frame: Message) {
        match frame {
            Message::Binary(data) => {
                let (run, stream, offset, bytes) = decode_output(&data).expect("an output frame");
                assert_eq!(
                    offset,
                    self.end(run, stream),
                    "run {run} {stream:?} must continue exactly where it left off"
                );
                self.output
                    .entry((run, stream))
                    .or_default()
                    .extend_from_slice(bytes);
                let ack = json!({"t": "ack", "run": run, "stream": stream, "offset": self.end(run, stream)});
                let _ = self.ws.send(Message::Text(ack.to_string().into())).await;
            }
            other => note(other, &mut self.messages, &mut self.closed),
        }
    }

    /// Drops the connection without a close handshake (a network drop).
    pub fn drop_connection(self) {
        drop(self.ws);
    }
}

stream_client!(ExecStream);
