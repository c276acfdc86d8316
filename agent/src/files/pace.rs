//! File transfers yield to people typing. While a keystroke reached a terminal on this agent
//! within the last `TYPING_WINDOW`, all file transfers together are held to a rate cap; the rest
//! of the time they run as fast as the link and the disk allow.
//!
//! Why: a transfer that runs flat out saturates a small machine's CPU (TLS and SHA-256 on every
//! byte, in the agent and on the server), and then each hop of a keystroke's echo waits for a
//! scheduler slice behind it. Priorities cannot separate the two inside one process and one TLS
//! stream, so the transfer makes room instead, and only while someone is actually typing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long after a keystroke the agent still counts as being typed in.
pub const TYPING_WINDOW: Duration = Duration::from_secs(1);

/// The default cap while someone types, in MiB/s. At 64 a tunnel's bulk transfer still put the
/// echo's p99 at 2–2.9× idle on a 2-core machine; at 16 it stays under 2× (BENCHMARKS.md).
/// 16 MiB/s is 128 Mbit/s, more than most links a person works over, and only while typing.
pub const DEFAULT_TYPING_RATE_MIB: u64 = 16;

#[derive(Debug)]
pub struct Pacer {
    /// Bytes per second while someone types; 0 = never paced.
    rate: u64,
    epoch: Instant,
    /// Milliseconds since `epoch` of the last keystroke, plus one (0 = none yet).
    last_key: AtomicU64,
    /// When the shared budget is next free: transfers queue behind one another's bytes.
    next_free: Mutex<Instant>,
}

impl Pacer {
    /// `rate_mib` MiB/s for all transfers together while someone types; 0 turns pacing off.
    pub fn new(rate_mib: u64) -> Self {
        let epoch = Instant::now();
        Pacer {
            rate: rate_mib.saturating_mul(1024 * 1024),
            epoch,
            last_key: AtomicU64::new(0),
            next_free: Mutex::new(epoch),
        }
    }

    /// A keystroke reached a terminal.
    pub fn keystroke(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.last_key.store(ms + 1, Ordering::Relaxed);
    }

    fn typing(&self, now: Instant) -> bool {
        match self.last_key.load(Ordering::Relaxed) {
            0 => false,
            mark => {
                let since = now.saturating_duration_since(self.epoch).as_millis() as u64;
                since.saturating_sub(mark - 1) < TYPING_WINDOW.as_millis() as u64
            }
        }
    }

    /// Whether transfers are being paced now (someone typed within the window).
    pub fn typing_now(&self) -> bool {
        self.rate != 0 && self.typing(Instant::now())
    }

    /// How long `bytes` must wait before they may go, booked against the shared budget.
    fn delay(&self, bytes: usize, now: Instant) -> Duration {
        if self.rate == 0 || !self.typing(now) {
            return Duration::ZERO;
        }
        let cost = Duration::from_secs_f64(bytes as f64 / self.rate as f64);
        let mut next_free = self.next_free.lock().unwrap_or_else(|e| e.into_inner());
        // Idle budget does not accumulate: a burst after a pause is paced like the rest.
        let start = (*next_free).max(now);
        *next_free = start + cost;
        start - now
    }

    /// Waits until `bytes` of a transfer may go.
    pub async fn pace(&self, bytes: usize) {
        let wait = self.delay(bytes, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    #[test]
    fn typing_now_follows_keystrokes_unless_pacing_is_off() {
        let pacer = Pacer::new(4);
        assert!(!pacer.typing_now());
        pacer.keystroke();
        assert!(pacer.typing_now());
        let off = Pacer::new(0);
        off.keystroke();
        assert!(!off.typing_now());
    }

    #[test]
    fn without_typing_nothing_waits() {
        let pacer = Pacer::new(1);
        let now = Instant::now();
        assert_eq!(pacer.delay(100 * MIB, now), Duration::ZERO);
    }

    #[test]
    fn while_typing_all_transfers_share_the_cap() {
        let pacer = Pacer::new(4);
        pacer.keystroke();
        let now = Instant::now();
        // The first chunk goes at once; each further MiB waits a quarter second more, whichever
        // transfer sends it.
        assert_eq!(pacer.delay(MIB, now), Duration::ZERO);
        assert_eq!(pacer.delay(MIB, now), Duration::from_millis(250));
        assert_eq!(pacer.delay(2 * MIB, now), Duration::from_millis(500));
        assert_eq!(pacer.delay(MIB, now), Duration::from_millis(1000));
    }

    #[test]
    fn typing_ends_after_its_window_and_a_zero_rate_never_paces() {
        let pacer = Pacer::new(4);
        pacer.keystroke();
        let later = Instant::now() + TYPING_WINDOW + Duration::from_millis(5);
        assert_eq!(pacer.delay(MIB, later), Duration::ZERO);
        assert_eq!(pacer.delay(MIB, later), Duration::ZERO);
        let off = Pacer::new(0);
        off.keystroke();
        assert_eq!(off.delay(100 * MIB, Instant::now()), Duration::ZERO);
    }
}
