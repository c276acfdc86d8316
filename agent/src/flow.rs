//! One output stream with credit-based flow control, shared by its producer (a PTY or pipe
//! reader) and the link's sender. The producer stops reading when `CHANNEL_WINDOW` bytes wait
//! unacknowledged, so a stalled viewer stalls only its own channel, and memory stays bounded.

use gatehouse_shared::agent_link::{CHANNEL_WINDOW, MAX_CHUNK_BYTES};
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::Notify;

#[derive(Debug, Default)]
struct State {
    /// Bytes from `base` on that the gateway has not acknowledged yet.
    buf: VecDeque<u8>,
    base: u64,
    /// Everything before `sent` went out on the current link.
    sent: u64,
    /// Bumped on every re-attach so a sender of an old link stops.
    generation: u64,
    finished: bool,
}

/// What the sender does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Send these bytes, the first at this offset.
    Chunk(u64, Vec<u8>),
    /// The stream ended and everything went out on this link.
    Finished,
    /// A newer link took the stream over; this sender stops.
    Superseded,
}

#[derive(Debug, Default)]
pub struct Outflow {
    state: Mutex<State>,
    changed: Notify,
}

impl Outflow {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock would be a bug in this module; recover the data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends output, waiting while the window is full.
    pub async fn push(&self, mut data: &[u8]) {
        while !data.is_empty() {
            let wait = self.changed.notified();
            {
                let mut s = self.lock();
                let room = (CHANNEL_WINDOW as usize).saturating_sub(s.buf.len());
                if room > 0 {
                    let n = room.min(data.len());
                    s.buf.extend(&data[..n]);
                    data = &data[n..];
                    drop(s);
                    self.changed.notify_waiters();
                    continue;
                }
            }
            wait.await;
        }
    }

    /// No more output will come.
    pub fn finish(&self) {
        self.lock().finished = true;
        self.changed.notify_waiters();
    }

    /// The offset just past the last byte produced.
    pub fn end(&self) -> u64 {
        let s = self.lock();
        s.base + s.buf.len() as u64
    }

    /// The gateway consumed everything before `offset`.
    pub fn ack(&self, offset: u64) {
        let mut s = self.lock();
        let end = s.base + s.buf.len() as u64;
        let offset = offset.min(end);
        if offset > s.base {
            let n = (offset - s.base) as usize;
            s.buf.drain(..n);
            s.base = offset;
            s.sent = s.sent.max(offset);
        }
        drop(s);
        self.changed.notify_waiters();
    }

    /// Starts sending again from `from` on a new link; returns the sender generation.
    pub fn rewind(&self, from: u64) -> u64 {
        let mut s = self.lock();
        let end = s.base + s.buf.len() as u64;
        s.sent = from.clamp(s.base, end);
        s.generation += 1;
        let generation = s.generation;
        drop(s);
        self.changed.notify_waiters();
        generation
    }

    /// What to send next on the link of `generation`, waiting for output or credit.
    pub async fn next_chunk(&self, generation: u64) -> Next {
        loop {
            let wait = self.changed.notified();
            {
                let mut s = self.lock();
                if s.generation != generation {
                    return Next::Superseded;
                }
                let end = s.base + s.buf.len() as u64;
                // The gateway's credit: it accepts up to one window past what it acknowledged.
                let limit = end.min(s.base + CHANNEL_WINDOW);
                if s.sent < limit {
                    let start = (s.sent - s.base) as usize;
                    let n = ((limit - s.sent) as usize).min(MAX_CHUNK_BYTES);
                    let bytes: Vec<u8> = s.buf.range(start..start + n).copied().collect();
                    let offset = s.sent;
                    s.sent += n as u64;
                    return Next::Chunk(offset, bytes);
                }
                if s.finished && s.sent >= end {
                    return Next::Finished;
                }
            }
            wait.await;
        }
    }

    /// True once everything produced was acknowledged after `finish`.
    #[cfg(test)]
    pub fn drained(&self) -> bool {
        let s = self.lock();
        s.finished && s.buf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunks_respect_credit_and_rewind() {
        let flow = Outflow::default();
        flow.push(b"hello world").await;
        let g = flow.rewind(0);
        assert_eq!(
            flow.next_chunk(g).await,
            Next::Chunk(0, b"hello world".to_vec())
        );
        flow.ack(5);
        // A new link resumes from what the gateway has.
        let g2 = flow.rewind(5);
        assert_eq!(
            flow.next_chunk(g).await,
            Next::Superseded,
            "the old link's sender stops"
        );
        assert_eq!(
            flow.next_chunk(g2).await,
            Next::Chunk(5, b" world".to_vec())
        );
        flow.finish();
        assert_eq!(flow.next_chunk(g2).await, Next::Finished);
        assert!(!flow.drained());
        flow.ack(11);
        assert!(flow.drained());
    }

    #[tokio::test]
    async fn a_full_window_blocks_the_producer_until_acked() {
        let flow = std::sync::Arc::new(Outflow::default());
        let big = vec![b'y'; CHANNEL_WINDOW as usize + 10];
        let producer = {
            let flow = flow.clone();
            tokio::spawn(async move { flow.push(&big).await })
        };
        // The producer cannot finish: 10 bytes do not fit.
        let g = flow.rewind(0);
        let mut got = 0u64;
        while got < CHANNEL_WINDOW {
            let Next::Chunk(offset, bytes) = flow.next_chunk(g).await else {
                panic!("no chunk")
            };
            assert_eq!(offset, got);
            got += bytes.len() as u64;
        }
        assert!(!producer.is_finished());
        flow.ack(got);
        producer.await.unwrap();
        assert_eq!(flow.end(), CHANNEL_WINDOW + 10);
    }
}
