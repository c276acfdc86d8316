//! One output stream of a command run as its stream's viewers see it: the last bytes, numbered
//! by offset, kept for viewers and reconnects, and the credit the agent gets for the stream.
//!
//! Credit follows the slowest viewer attached (a slow viewer holds back only this command's
//! stream on the agent, never the link or other channels). With nobody attached, a paced job
//! (`stream`, `stdin` or `tty`) stays held where its viewers last acknowledged, so a client that
//! attaches late or reconnects misses nothing; any other job flows freely, and a viewer that
//! attaches later is told what left the buffer (a gap) before it gets the rest.

use gatehouse_shared::agent_link::CHANNEL_WINDOW;
use std::collections::{HashMap, VecDeque};

/// Output kept per stream of a run for viewers and reconnects.
pub const RING_BYTES: u64 = 1024 * 1024;
/// Output a viewer may have unacknowledged in flight.
pub const VIEWER_WINDOW: u64 = 256 * 1024;

#[derive(Debug, Default)]
pub struct StreamBuf {
    ring: VecDeque<u8>,
    ring_start: u64,
    end: u64,
    /// The agent may send up to here plus its window.
    acked_to_agent: u64,
    /// Each attached viewer's acknowledgement.
    viewers: HashMap<u64, u64>,
    /// The furthest any viewer acknowledged: where a paced stream waits with nobody attached.
    held: u64,
}

impl StreamBuf {
    /// The offset just past the last byte received.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Output from the agent whose first byte is at `offset`; bytes already held (a resend)
    /// are skipped. Returns the fresh bytes.
    pub fn push<'a>(&mut self, offset: u64, bytes: &'a [u8]) -> &'a [u8] {
        if offset > self.end {
            return &[];
        }
        let skip = ((self.end - offset) as usize).min(bytes.len());
        let fresh = &bytes[skip..];
        self.ring.extend(fresh);
        self.end += fresh.len() as u64;
        let excess = (self.ring.len() as u64).saturating_sub(RING_BYTES) as usize;
        if excess > 0 {
            self.ring.drain(..excess);
            self.ring_start += excess as u64;
        }
        fresh
    }

    /// The credit the agent should have now, when it grew.
    pub fn credit(&mut self, paced: bool) -> Option<u64> {
        let floor = match self.viewers.values().min() {
            Some(slowest) => Some(*slowest),
            None if paced => Some(self.held),
            None => None,
        };
        // What the agent may send past its credit must still fit in the ring above the floor.
        let target = match floor {
            Some(floor) => self.end.min(floor + RING_BYTES - CHANNEL_WINDOW),
            None => self.end,
        };
        (target > self.acked_to_agent).then(|| {
            self.acked_to_agent = target;
            target
        })
    }

    pub fn add_viewer(&mut self, viewer: u64, from: u64) {
        let acked = from.clamp(self.ring_start, self.end);
        self.viewers.insert(viewer, acked);
    }

    pub fn remove_viewer(&mut self, viewer: u64) {
        self.viewers.remove(&viewer);
    }

    /// A viewer consumed everything before `offset`.
    pub fn viewer_ack(&mut self, viewer: u64, offset: u64) {
        let end = self.end;
        if let Some(acked) = self.viewers.get_mut(&viewer) {
            *acked = (*acked).max(offset.min(end));
            self.held = self.held.max(*acked);
        }
    }

    /// What a viewer that has everything before `from` may get next: at most up to its
    /// acknowledgement plus one window. Returns the offset actually used (later than `from`
    /// when those bytes already left the ring: a gap) and the bytes.
    pub fn read(&self, viewer: u64, from: u64, max: usize) -> (u64, Vec<u8>) {
        let acked = self
            .viewers
            .get(&viewer)
            .copied()
            .unwrap_or(self.end)
            .max(self.ring_start);
        let from = from.max(self.ring_start);
        let limit = self.end.min(acked + VIEWER_WINDOW);
        if from >= limit {
            return (from, Vec::new());
        }
        let start = (from - self.ring_start) as usize;
        let n = ((limit - from) as usize).min(max);
        (from, self.ring.range(start..start + n).copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paced_stream_waits_for_its_viewer_and_loses_nothing() {
        let mut s = StreamBuf::default();
        let chunk = vec![b'x'; 64 * 1024];
        let mut offset = 0;
        // Nobody attached yet: the agent gets credit only as far as the ring can hold.
        while offset < 2 * RING_BYTES {
            s.push(offset, &chunk);
            offset += chunk.len() as u64;
            s.credit(true);
        }
        assert_eq!(s.acked_to_agent, RING_BYTES - CHANNEL_WINDOW);
        // (The agent would not have sent past its window; the ring dropped what it could not hold.)
        let mut s = StreamBuf::default();
        s.push(0, &vec![b'y'; (RING_BYTES - CHANNEL_WINDOW) as usize]);
        s.credit(true);
        s.add_viewer(1, 0);
        let (from, bytes) = s.read(1, 0, usize::MAX);
        assert_eq!((from, bytes.len() as u64), (0, VIEWER_WINDOW));
        s.viewer_ack(1, VIEWER_WINDOW);
        assert_eq!(s.credit(true), None, "nothing new arrived");
        s.push(RING_BYTES - CHANNEL_WINDOW, b"more");
        assert_eq!(s.credit(true), Some(RING_BYTES - CHANNEL_WINDOW + 4));
    }

    #[test]
    fn an_unpaced_stream_flows_and_a_late_viewer_sees_a_gap() {
        let mut s = StreamBuf::default();
        let chunk = vec![b'z'; 256 * 1024];
        for i in 0..8 {
            assert_eq!(s.push(i * chunk.len() as u64, &chunk).len(), chunk.len());
            assert_eq!(s.credit(false), Some((i + 1) * chunk.len() as u64));
        }
        // A resend of bytes already held is skipped.
        assert!(s.push(0, &chunk).is_empty());
        s.add_viewer(7, 0);
        let (from, _) = s.read(7, 0, 10);
        assert_eq!(
            from,
            8 * chunk.len() as u64 - RING_BYTES,
            "moved past the gap"
        );
    }
}
