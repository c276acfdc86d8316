//! A websh client's bookkeeping, shared by the console and the `gate` CLI so both resume, pace
//! and read close codes the same way: which output bytes are new, when to acknowledge them, what
//! a close code means and how long to wait before reconnecting.

use super::{close, EndReason};

/// Acknowledge at least this often while xterm still has writes queued, so the gateway's
/// 256 KiB window never runs dry while the browser catches up.
pub const ACK_EVERY: u64 = 64 * 1024;

/// With nothing queued, acknowledge once this much is rendered, not after every echo: a typed
/// key's few bytes are far inside the gateway's window, and an acknowledgement per key is one
/// more frame for the gateway to read just before the next key arrives.
pub const ACK_IDLE: u64 = 4 * 1024;

/// Output offsets: what arrived, what xterm has rendered, what the gateway was told.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Flow {
    /// The next offset expected from the gateway; a reconnect resumes from here.
    pub received: u64,
    rendered: u64,
    acked: u64,
    /// Writes handed to xterm whose callback has not run yet.
    pending: u32,
}

impl Flow {
    /// Takes a frame of `len` bytes starting at `offset`. Returns how many leading bytes to skip
    /// (already received before a resume), or `None` when nothing in it is new.
    pub fn accept(&mut self, offset: u64, len: usize) -> Option<usize> {
        let end = offset.saturating_add(len as u64);
        if end <= self.received {
            return None;
        }
        // A frame that starts past `received` follows bytes the gateway no longer held (it says
        // so in a notice); output simply continues from there.
        let skip = self.received.saturating_sub(offset) as usize;
        self.received = end;
        self.pending += 1;
        Some(skip)
    }

    /// xterm finished the write that ended at `end`. Returns the offset to acknowledge, if an
    /// acknowledgement is due: every [`ACK_IDLE`] bytes once xterm's queue is empty, and every
    /// [`ACK_EVERY`] bytes while it is not.
    pub fn rendered(&mut self, end: u64) -> Option<u64> {
        self.pending = self.pending.saturating_sub(1);
        self.rendered = self.rendered.max(end);
        let owed = self.rendered - self.acked;
        let due = (self.pending == 0 && owed >= ACK_IDLE) || owed >= ACK_EVERY;
        (due && self.rendered > self.acked).then(|| {
            self.acked = self.rendered;
            self.rendered
        })
    }
}

/// Where a terminal stands, as the page shows it (and as `data-state` reports it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    Connecting,
    Open,
    Reconnecting,
    /// Final: the terminal cannot come back. `word` names why in one slug (e.g. `revoked`,
    /// `link-ended`); the page shows it as `data-reason`.
    Ended {
        word: String,
        message: String,
    },
    /// Final: the shell exited, with its code when the gateway sent it.
    Exited(Option<i32>),
}

impl Phase {
    /// The slug of why a final phase ended (`data-reason`): the end word, or `exited`.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Phase::Ended { word, .. } => Some(word),
            Phase::Exited(_) => Some("exited"),
            _ => None,
        }
    }

    /// The `data-state` value.
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::Connecting => "connecting",
            Phase::Open => "open",
            Phase::Reconnecting => "reconnecting",
            Phase::Ended { .. } => "ended",
            Phase::Exited(_) => "exited",
        }
    }

    /// No reconnect follows a final phase.
    pub fn is_final(&self) -> bool {
        matches!(self, Phase::Ended { .. } | Phase::Exited(_))
    }

    /// The sentence of the ended/exited banner.
    pub fn banner(&self) -> Option<String> {
        match self {
            Phase::Ended { word, message } => Some(format!(
                "{}: {message}",
                capitalized(&word.replace('-', " "))
            )),
            Phase::Exited(Some(code)) => Some(format!("Shell exited with code {code}.")),
            Phase::Exited(None) => Some("Shell exited.".to_owned()),
            _ => None,
        }
    }

    fn ended(word: &str, message: impl Into<String>) -> Self {
        Phase::Ended {
            word: word.to_owned(),
            message: message.into(),
        }
    }

    /// The `ended` message of the stream.
    pub fn from_end_reason(reason: EndReason) -> Self {
        match reason {
            EndReason::Revoked => Self::ended("revoked", "the work session was revoked."),
            EndReason::Expired => Self::ended("expired", "the work session expired."),
            EndReason::Completed => Self::ended("completed", "the work session was completed."),
            EndReason::Terminated => Self::ended(
                "terminated",
                "the terminal was terminated (by staff, its owner or the gateway).",
            ),
        }
    }

    /// A failure before the stream existed (opening the terminal was refused).
    pub fn refused(message: impl Into<String>) -> Self {
        Self::ended("refused", message)
    }

    /// A guest's link can no longer be used (revoked, expired, or its terminal is gone).
    pub fn link_ended(message: impl Into<String>) -> Self {
        Self::ended("link-ended", message)
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// How long after losing a working connection "not found" still means "not back yet": a
/// restarted gateway knows a terminal again only once its agent has re-attached, and agents
/// reconnect with up to a minute of backoff.
pub const REATTACH_GRACE_MS: f64 = 180_000.0;

/// Who is connected: a signed-in user (owner or watching staff), or a guest who joined by link.
/// They are told different things, since a guest has no account to sign in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Member,
    Guest,
}

/// What a close code means: `Some(final phase)`, or `None` for a drop worth reconnecting after.
/// `reason` is the close frame's text (the gate's explanation on 4003); `lost_for_ms` is how long
/// ago the last working connection was lost (`None` if the terminal never connected).
pub fn close_outcome(
    viewer: Viewer,
    code: u16,
    reason: &str,
    lost_for_ms: Option<f64>,
) -> Option<Phase> {
    let explain = |default: &str| {
        if reason.is_empty() {
            default.to_owned()
        } else {
            format!("{default} ({reason})")
        }
    };
    Some(match code {
        close::SHELL_EXITED => Phase::Exited(None),
        close::UNAUTHENTICATED if viewer == Viewer::Guest => Phase::ended(
            "unauthenticated",
            "the gateway did not accept this link's ticket; open the link again.",
        ),
        close::UNAUTHENTICATED => Phase::ended(
            "unauthenticated",
            "you are signed out; sign in and open a new terminal.",
        ),
        close::GATE_DENIED => Phase::ended("denied", explain("the gate refused access")),
        // Still on its server, which has not reconnected since the gateway restarted: retry.
        close::AGENT_PENDING => return None,
        close::NOT_FOUND if lost_for_ms.is_some_and(|t| t < REATTACH_GRACE_MS) => return None,
        close::NOT_FOUND => Phase::ended("gone", "this terminal no longer exists."),
        close::WORK_SESSION_ENDED => Phase::ended("ended", "the work session ended."),
        close::TERMINATED => Phase::from_end_reason(EndReason::Terminated),
        close::SHARE_ENDED => {
            Phase::link_ended(explain("the shared link was revoked or has expired"))
        }
        close::REMOVED => Phase::ended(
            "removed",
            explain("you were removed from this terminal by its owner or staff"),
        ),
        _ => return None,
    })
}

/// The wait before reconnect attempt `attempt` (0-based): 0.5 s doubling to at most 10 s, with
/// the upper half randomised by `jitter` (0..1) so many tabs do not reconnect in lockstep.
pub fn backoff_ms(attempt: u32, jitter: f64) -> u32 {
    let base = 500u32.saturating_mul(1 << attempt.min(5)).min(10_000);
    let jitter = jitter.clamp(0.0, 1.0);
    base / 2 + (f64::from(base / 2) * jitter) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_bytes_are_written_and_duplicates_dropped() {
        let mut flow = Flow::default();
        assert_eq!(flow.accept(0, 10), Some(0));
        assert_eq!(flow.received, 10);
        // After a resume the gateway may repeat bytes already received.
        assert_eq!(flow.accept(5, 10), Some(5));
        assert_eq!(flow.received, 15);
        assert_eq!(flow.accept(0, 15), None);
        assert_eq!(flow.accept(15, 0), None);
        // Skipped output (older than the gateway's ring) continues from the new offset.
        assert_eq!(flow.accept(100, 4), Some(0));
        assert_eq!(flow.received, 104);
    }

    #[test]
    fn acks_coalesce_until_the_queue_drains() {
        let mut flow = Flow::default();
        let chunk = 2 * 1024;
        flow.accept(0, chunk);
        flow.accept(2048, chunk);
        flow.accept(4096, chunk);
        assert_eq!(flow.rendered(2048), None);
        assert_eq!(flow.rendered(4096), None);
        assert_eq!(flow.rendered(6144), Some(6144));
        // Nothing new rendered: nothing to acknowledge.
        assert_eq!(flow.rendered(6144), None);
    }

    #[test]
    fn echoes_are_acknowledged_a_few_kilobytes_at_a_time() {
        let mut flow = Flow::default();
        let mut end = 0;
        while end + 2 < ACK_IDLE {
            flow.accept(end, 2);
            end += 2;
            assert_eq!(flow.rendered(end), None, "acknowledged early at {end}");
        }
        flow.accept(end, 2);
        end += 2;
        assert_eq!(flow.rendered(end), Some(end));
    }

    #[test]
    fn acks_flow_during_a_long_burst() {
        let mut flow = Flow::default();
        let chunk = 32 * 1024;
        for i in 0..8 {
            flow.accept(i * chunk, chunk as usize);
        }
        assert_eq!(flow.rendered(chunk), None);
        assert_eq!(flow.rendered(2 * chunk), Some(2 * chunk));
        assert_eq!(flow.rendered(3 * chunk), None);
    }

    fn member(code: u16, reason: &str, lost_for_ms: Option<f64>) -> Option<Phase> {
        close_outcome(Viewer::Member, code, reason, lost_for_ms)
    }

    #[test]
    fn close_codes() {
        assert_eq!(member(1000, "", None), Some(Phase::Exited(None)));
        assert_eq!(member(1006, "", None), None);
        assert_eq!(member(1001, "going away", Some(5.0)), None);
        let denied = member(4003, "no approved work session", None).unwrap();
        assert_eq!(denied.as_str(), "ended");
        assert!(denied
            .banner()
            .unwrap()
            .contains("no approved work session"));
        let terminated = member(4011, "", None).unwrap();
        assert!(terminated.banner().unwrap().contains("terminated"));
        for code in [4001, 4004, 4010, 4012, 4013] {
            assert!(member(code, "", None).unwrap().is_final());
        }
    }

    #[test]
    fn shared_link_closes_are_final_and_say_why() {
        for lost in [None, Some(1_000.0)] {
            let ended = close_outcome(Viewer::Guest, 4012, "", lost).unwrap();
            assert!(ended.is_final());
            assert_eq!(ended.reason(), Some("link-ended"));
            assert_eq!(
                ended.banner().unwrap(),
                "Link ended: the shared link was revoked or has expired"
            );
            let removed = close_outcome(Viewer::Guest, 4013, "by ops", lost).unwrap();
            assert_eq!(removed.reason(), Some("removed"));
            assert!(removed
                .banner()
                .unwrap()
                .starts_with("Removed: you were removed"));
            assert!(removed.banner().unwrap().contains("(by ops)"));
        }
        // Guests have no account: they are not told to sign in.
        let guest = close_outcome(Viewer::Guest, 4001, "", None).unwrap();
        assert!(!guest.banner().unwrap().contains("sign in"));
        assert!(member(4001, "", None)
            .unwrap()
            .banner()
            .unwrap()
            .contains("sign in"));
        // The same work-session and shell endings as for members.
        assert_eq!(
            close_outcome(Viewer::Guest, 4010, "", None)
                .unwrap()
                .reason(),
            Some("ended")
        );
        assert_eq!(
            close_outcome(Viewer::Guest, 4011, "", None)
                .unwrap()
                .reason(),
            Some("terminated")
        );
        assert_eq!(
            close_outcome(Viewer::Guest, 1000, "", None),
            Some(Phase::Exited(None))
        );
        assert_eq!(close_outcome(Viewer::Guest, 1006, "", Some(5.0)), None);
    }

    #[test]
    fn not_found_after_a_drop_waits_for_the_agent_to_reattach() {
        assert_eq!(member(4004, "", Some(1_000.0)), None);
        assert!(member(4004, "", Some(REATTACH_GRACE_MS))
            .unwrap()
            .is_final());
        assert!(member(4004, "", None).unwrap().is_final());
    }

    #[test]
    fn a_terminal_waiting_for_its_agent_is_retried_however_long_it_takes() {
        for lost in [None, Some(1_000.0), Some(10.0 * REATTACH_GRACE_MS)] {
            assert_eq!(member(4015, "", lost), None);
            assert_eq!(close_outcome(Viewer::Guest, 4015, "", lost), None);
        }
    }

    #[test]
    fn end_reasons_name_themselves() {
        let revoked = Phase::from_end_reason(EndReason::Revoked);
        assert_eq!(
            revoked.banner().unwrap(),
            "Revoked: the work session was revoked."
        );
        assert!(Phase::Exited(Some(3))
            .banner()
            .unwrap()
            .contains("exited with code 3"));
    }

    #[test]
    fn backoff_grows_to_ten_seconds() {
        assert_eq!(backoff_ms(0, 0.0), 250);
        assert_eq!(backoff_ms(0, 1.0), 500);
        assert_eq!(backoff_ms(1, 1.0), 1000);
        assert_eq!(backoff_ms(2, 1.0), 2000);
        assert_eq!(backoff_ms(10, 1.0), 10_000);
        assert_eq!(backoff_ms(u32::MAX, 0.5), 7500);
    }
}
