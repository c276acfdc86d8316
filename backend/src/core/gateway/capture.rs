//! A command run in flight: bounded capture of its output (the first and last 512 KiB of each
//! stream, with a marker where the middle was dropped), its live output for the exec stream
//! (`exec_stream`), its standard input within the agent's credit, and its completion.

use crate::core::gateway::exec_stream::StreamBuf;
use crate::core::gateway::hub::AgentLink;
use gatehouse_shared::agent_link::{ChannelId, GatewayMessage, OutputStream, CHANNEL_WINDOW};
use gatehouse_shared::exec_stream::{ExecSignal, StreamName};
use gatehouse_shared::WorkSessionId;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::{watch, Notify};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Bytes kept from the start, and from the end, of each stream.
pub const KEEP_BYTES: usize = 512 * 1024;

/// Head-and-tail capture of one stream.
#[derive(Debug, Default, Clone)]
pub struct Capture {
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    total: u64,
}

impl Capture {
    pub fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if self.head.len() < KEEP_BYTES {
            let n = (KEEP_BYTES - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(KEEP_BYTES);
        self.tail.drain(..excess);
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// The captured text; a marker stands where bytes were dropped.
    pub fn text(&self) -> String {
        let dropped = self.total - self.head.len() as u64 - self.tail.len() as u64;
        let mut out = String::from_utf8_lossy(&self.head).into_owned();
        if dropped > 0 {
            out.push_str(&format!("\n[... {dropped} bytes truncated ...]\n"));
        }
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        out.push_str(&String::from_utf8_lossy(&tail));
        out
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    Done {
        exit_code: Option<i32>,
        timed_out: bool,
        duration_ms: u64,
        /// The signal that ended it, when one did.
        signal: Option<i32>,
    },
    Failed(String),
}

impl RunEnd {
    /// The signal that ended the command, when one did.
    pub fn signal(&self) -> Option<i32> {
        match self {
            RunEnd::Done { signal, .. } => *signal,
            RunEnd::Failed(_) => None,
        }
    }
}

/// The live state of one run, shared by the link (which feeds it), the API (which waits) and
/// the exec stream's viewers.
pub struct ExecRunState {
    pub channel: ChannelId,
    pub server_name: String,
    /// The session that authorized it: the run is killed when that session ends.
    pub work_session: Option<WorkSessionId>,
    pub stdout: Mutex<Capture>,
    pub stderr: Mutex<Capture>,
    done: watch::Sender<Option<RunEnd>>,
    /// Output and stdin for the exec stream.
    live: Mutex<Live>,
    /// With nobody attached, output waits for the stream (see `exec_stream`).
    paced: bool,
    /// Woken on output, stdin credit and the end; shared by every run of a job, so one viewer
    /// waits on one thing.
    pub changed: Arc<Notify>,
    /// Moves on every change a viewer could see (output, open, stdin credit, end, a viewer's
    /// acknowledgement), so a viewer of a thousand runs looks again only at those that moved.
    version: AtomicU64,
    link: Mutex<Option<Weak<AgentLink>>>,
}

#[derive(Default)]
struct Live {
    stdout: StreamBuf,
    stderr: StreamBuf,
    /// Standard-input bytes sent to the agent, and what it reported written.
    stdin_sent: u64,
    stdin_written: u64,
    /// The agent answered `opened`: the command runs, and frames for it may follow the open.
    opened: bool,
}

impl Live {
    fn stream(&mut self, stream: StreamName) -> &mut StreamBuf {
        match stream {
            StreamName::Stdout => &mut self.stdout,
            StreamName::Stderr => &mut self.stderr,
        }
    }
}

impl ExecRunState {
    pub fn new(
        channel: ChannelId,
        server_name: String,
        work_session: Option<WorkSessionId>,
    ) -> Self {
        Self::in_job(
            channel,
            server_name,
            work_session,
            false,
            Arc::new(Notify::new()),
        )
    }

    /// A run of a job whose runs share `changed`; `paced`: see `exec_stream`.
    pub fn in_job(
        channel: ChannelId,
        server_name: String,
        work_session: Option<WorkSessionId>,
        paced: bool,
        changed: Arc<Notify>,
    ) -> Self {
        Self {
            channel,
            server_name,
            work_session,
            stdout: Mutex::default(),
            stderr: Mutex::default(),
            done: watch::channel(None).0,
            live: Mutex::default(),
            paced,
            changed,
            version: AtomicU64::new(1),
            link: Mutex::new(None),
        }
    }

    /// The agent link that carries the run (set when it is opened).
    pub fn attach_link(&self, link: &Arc<AgentLink>) {
        *lock(&self.link) = Some(Arc::downgrade(link));
    }

    fn link(&self) -> Option<Arc<AgentLink>> {
        lock(&self.link).as_ref().and_then(Weak::upgrade)
    }

    /// Output from the agent: captured (bounded) and kept for viewers; resent bytes are
    /// skipped by offset. Credit goes back to the agent as the stream's rule allows.
    pub fn on_output(&self, stream: StreamName, offset: u64, bytes: &[u8]) {
        let credit = {
            let mut live = lock(&self.live);
            let buf = live.stream(stream);
            let fresh = buf.push(offset, bytes);
            if !fresh.is_empty() {
                let capture = match stream {
                    StreamName::Stdout => &self.stdout,
                    StreamName::Stderr => &self.stderr,
                };
                lock(capture).push(fresh);
            }
            buf.credit(self.paced)
        };
        self.touch();
        self.send_credit(stream, credit);
    }

    /// A change viewers may see: the version moves, then they are woken.
    fn touch(&self) {
        self.version.fetch_add(1, Ordering::Release);
        self.changed.notify_waiters();
    }

    /// Where the run's visible state is now: equal versions, nothing new to see. Read before
    /// the state it guards, so a change made meanwhile shows as a newer version next time.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    fn send_credit(&self, stream: StreamName, credit: Option<u64>) {
        if let (Some(offset), Some(link)) = (credit, self.link()) {
            let stream = match stream {
                StreamName::Stdout => OutputStream::Stdout,
                StreamName::Stderr => OutputStream::Stderr,
            };
            link.try_send(&GatewayMessage::Ack {
                channel: self.channel,
                stream,
                offset,
            });
        }
    }

    /// Where each stream ends now.
    pub fn end_of(&self, stream: StreamName) -> u64 {
        lock(&self.live).stream(stream).end()
    }

    pub fn add_viewer(&self, viewer: u64, from: [u64; 2]) {
        let mut live = lock(&self.live);
        for (stream, from) in StreamName::BOTH.into_iter().zip(from) {
            live.stream(stream).add_viewer(viewer, from);
        }
    }

    pub fn remove_viewer(&self, viewer: u64) {
        let credits: Vec<_> = {
            let mut live = lock(&self.live);
            StreamName::BOTH
                .into_iter()
                .map(|stream| {
                    let buf = live.stream(stream);
                    buf.remove_viewer(viewer);
                    (stream, buf.credit(self.paced))
                })
                .collect()
        };
        for (stream, credit) in credits {
            self.send_credit(stream, credit);
        }
    }

    pub fn viewer_ack(&self, viewer: u64, stream: StreamName, offset: u64) {
        let credit = {
            let mut live = lock(&self.live);
            let buf = live.stream(stream);
            buf.viewer_ack(viewer, offset);
            buf.credit(self.paced)
        };
        // The viewer's window moved: more of the stream may go to it. No wake-up: the viewer
        // that acknowledged looks again by itself.
        self.version.fetch_add(1, Ordering::Release);
        self.send_credit(stream, credit);
    }

    /// See [`StreamBuf::read`].
    pub fn read(&self, stream: StreamName, viewer: u64, from: u64, max: usize) -> (u64, Vec<u8>) {
        lock(&self.live).stream(stream).read(viewer, from, max)
    }

    /// The agent wrote standard input up to `offset`.
    pub fn on_stdin_credit(&self, offset: u64) {
        {
            let mut live = lock(&self.live);
            live.stdin_written = live.stdin_written.max(offset.min(live.stdin_sent));
        }
        self.touch();
    }

    /// The agent started the command.
    pub fn mark_opened(&self) {
        lock(&self.live).opened = true;
        self.touch();
    }

    /// Opened, or over: a viewer's frames for it can no longer overtake the open on the link.
    pub fn settled(&self) -> bool {
        lock(&self.live).opened || self.outcome().is_some()
    }

    /// Standard-input bytes the agent takes now (its credit), and what it wrote so far.
    pub fn stdin_room(&self) -> (u64, u64) {
        let live = lock(&self.live);
        (
            (live.stdin_written + CHANNEL_WINDOW).saturating_sub(live.stdin_sent),
            live.stdin_written,
        )
    }

    /// Sends standard input (the caller keeps within [`Self::stdin_room`]). False when the
    /// link is gone: the bytes then go nowhere, as they would into a closed pipe.
    pub async fn send_stdin(&self, bytes: &[u8]) -> bool {
        lock(&self.live).stdin_sent += bytes.len() as u64;
        match self.link() {
            Some(link) => link.send_input(self.channel, bytes).await,
            None => false,
        }
    }

    /// Closes standard input after everything sent before.
    pub async fn stdin_eof(&self) {
        if let Some(link) = self.link() {
            let msg = GatewayMessage::StdinEof {
                channel: self.channel,
            };
            link.send_now(&msg).await;
        }
    }

    /// Signals the command's process group (agents with `exec_io`; older ones would not know
    /// the message).
    pub async fn signal(&self, signal: ExecSignal) {
        let link = self.link().filter(|l| l.supports("exec_io"));
        if let (None, Some(link)) = (self.outcome(), link) {
            let msg = GatewayMessage::Signal {
                channel: self.channel,
                signal,
            };
            link.send_now(&msg).await;
        }
    }

    pub async fn resize(&self, cols: u16, rows: u16) {
        if let (None, Some(link)) = (self.outcome(), self.link()) {
            link.resize(self.channel, cols, rows).await;
        }
    }

    /// Stops the command on its agent (the gateway ends it: session over, token revoked).
    pub fn kill(&self) {
        if let Some(link) = self.link() {
            link.try_send(&GatewayMessage::Close {
                channel: self.channel,
            });
            link.remove(self.channel);
        }
    }

    /// Records the end (the first one wins).
    pub fn finish(&self, end: RunEnd) {
        self.done.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(end);
                true
            } else {
                false
            }
        });
        self.touch();
    }

    pub fn outcome(&self) -> Option<RunEnd> {
        self.done.borrow().clone()
    }

    /// Waits until the run ended.
    pub async fn wait(&self) -> RunEnd {
        let mut rx = self.done.subscribe();
        loop {
            if let Some(end) = rx.borrow_and_update().clone() {
                return end;
            }
            if rx.changed().await.is_err() {
                return RunEnd::Failed("the run was dropped".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_keeps_head_and_tail_with_a_marker() {
        let mut c = Capture::default();
        c.push(&vec![b'a'; KEEP_BYTES]);
        c.push(&vec![b'b'; 1000]);
        c.push(&vec![b'c'; KEEP_BYTES]);
        let text = c.text();
        assert!(text.starts_with("aaa"));
        assert!(text.ends_with("ccc"));
        assert!(text.contains("[... 1000 bytes truncated ...]"));
        assert_eq!(c.total(), 2 * KEEP_BYTES as u64 + 1000);
        let mut small = Capture::default();
        small.push(b"ok\n");
        assert_eq!(small.text(), "ok\n");
    }
}
