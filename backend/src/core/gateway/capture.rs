//! A command run in flight: bounded capture of its output (the first and last 512 KiB of each
//! stream, with a marker where the middle was dropped) and its completion.

use gatehouse_shared::agent_link::ChannelId;
use gatehouse_shared::WorkSessionId;
use std::sync::Mutex;
use tokio::sync::watch;

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
    },
    Failed(String),
}

/// The live state of one run, shared by the link (which feeds it) and the API (which waits).
pub struct ExecRunState {
    pub channel: ChannelId,
    pub server_name: String,
    /// The session that authorized it: the run is killed when that session ends.
    pub work_session: Option<WorkSessionId>,
    pub stdout: Mutex<Capture>,
    pub stderr: Mutex<Capture>,
    done: watch::Sender<Option<RunEnd>>,
}

impl ExecRunState {
    pub fn new(
        channel: ChannelId,
        server_name: String,
        work_session: Option<WorkSessionId>,
    ) -> Self {
        Self {
            channel,
            server_name,
            work_session,
            stdout: Mutex::default(),
            stderr: Mutex::default(),
            done: watch::channel(None).0,
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
