//! A live terminal: the bytes a PTY produced, numbered by offset, fanned out to its viewers.
//!
//! Output lands here from the agent link, is recorded (the single choke point for terminal
//! bytes) and kept in a fixed ring for resuming viewers. Credit to the agent follows the slowest
//! viewer that may type (the owner, read-write guests), so `yes` stops producing as soon as they
//! stop rendering; a read-only guest or a watcher never holds the shell back: one that falls
//! behind the ring is moved ahead (and told how much it missed). Memory per terminal is bounded
//! by the ring whatever any viewer does.

use crate::core::gateway::hub::AgentLink;
use crate::core::gateway::recording::Recorder;
use crate::core::gateway::viewers::{self, Kick, Viewer, ViewerIdentity};
use chrono::{DateTime, Utc};
use gatehouse_shared::agent_link::{ChannelId, GatewayMessage, OutputStream, CHANNEL_WINDOW};
use gatehouse_shared::share::{Participant, ParticipantRole};
use gatehouse_shared::websh::{EndReason, NoticeLevel};
use gatehouse_shared::{ParticipantId, ServerId, ShareId, TokenId, UserId, WorkSessionId};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, Notify};

/// Output kept for resuming viewers.
pub const RING_BYTES: usize = 1024 * 1024;
/// Output a viewer may have unacknowledged in flight.
pub const VIEWER_WINDOW: u64 = 256 * 1024;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether to tell the agent it may forget output up to `target`, having told it `granted` and
/// received everything before `end`. Not for every echo: a keystroke's few bytes leave the
/// agent's window nearly empty, and an acknowledgement per key would be one more frame to
/// encrypt, send and parse on the echo's path. Credit goes out once a quarter of the window is
/// owed, or as soon as anything is owed once the agent has half its window out, well before
/// its producer would stop.
fn credit_is_due(granted: u64, target: u64, end: u64) -> bool {
    target - granted >= CHANNEL_WINDOW / 4 || end - granted >= CHANNEL_WINDOW / 2
}

/// How far the viewers that pace the shell (the owner, read-write guests) have rendered; all
/// of it when none is connected.
fn pacing_target(s: &State) -> u64 {
    s.viewers
        .values()
        .filter(|v| v.paces())
        .map(|v| v.acked)
        .min()
        .unwrap_or(s.end)
}

/// Who and what a terminal belongs to.
#[derive(Debug, Clone)]
pub struct TerminalInfo {
    pub id: ChannelId,
    /// The work session it rides on; `None` for a terminal an API token opened.
    pub work_session: Option<WorkSessionId>,
    /// The API token that opened it (its ACLs allowed it; revoking the token ends it).
    pub token: Option<TokenId>,
    pub owner: UserId,
    pub owner_name: String,
    pub server_id: ServerId,
    pub server_name: String,
    pub run_as: Option<String>,
    pub started_at: DateTime<Utc>,
}

#[derive(Default)]
struct State {
    ring: VecDeque<u8>,
    ring_start: u64,
    end: u64,
    /// Output up to here is in the recording on disk.
    recorded: u64,
    link: Option<Arc<AgentLink>>,
    viewers: HashMap<u64, Viewer>,
    next_viewer: u64,
    /// Bumped whenever the participants list changes, so each viewer knows to resend it.
    participants_version: u64,
    acked_to_agent: u64,
    exit: Option<i32>,
    ended: Option<EndReason>,
    finalized: bool,
}

/// What a viewer needs to decide its next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub ring_start: u64,
    pub end: u64,
    pub exit: Option<i32>,
    pub ended: Option<EndReason>,
    pub agent_connected: bool,
}

pub struct Terminal {
    pub info: TerminalInfo,
    state: Mutex<State>,
    changed: Notify,
    recorder: Mutex<Option<Recorder>>,
    /// Notices for every viewer (someone joined, someone is watching).
    notices: broadcast::Sender<(NoticeLevel, String)>,
}

impl std::ops::Deref for Terminal {
    type Target = TerminalInfo;
    fn deref(&self) -> &TerminalInfo {
        &self.info
    }
}

impl Terminal {
    /// A terminal whose output starts at `end` (0 for a new one), with `tail` the last bytes
    /// before it that can still be replayed.
    pub fn new(info: TerminalInfo, recorder: Recorder, end: u64, tail: Vec<u8>) -> Arc<Self> {
        let state = State {
            ring_start: end - tail.len() as u64,
            ring: tail.into(),
            end,
            recorded: end,
            acked_to_agent: end,
            ..State::default()
        };
        Arc::new(Self {
            info,
            state: Mutex::new(state),
            changed: Notify::new(),
            recorder: Mutex::new(Some(recorder)),
            notices: broadcast::channel(32).0,
        })
    }

    /// Resolves when anything a viewer cares about may have changed. Create it *before* taking
    /// a snapshot so no change is missed.
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    fn notify(&self) {
        self.changed.notify_waiters();
    }

    pub fn snapshot(&self) -> Snapshot {
        let s = lock(&self.state);
        Snapshot {
            ring_start: s.ring_start,
            end: s.end,
            exit: s.exit,
            ended: s.ended,
            agent_connected: s.link.is_some(),
        }
    }

    /// Neither exited nor ended (an ended terminal may linger in the hub until its end is written).
    pub fn is_live(&self) -> bool {
        let s = lock(&self.state);
        s.exit.is_none() && s.ended.is_none()
    }

    /// The agent link carrying this terminal (after open, or a re-attach).
    pub fn attach_link(&self, link: Arc<AgentLink>) {
        lock(&self.state).link = Some(link);
        self.notify();
    }

    /// The agent link carrying this terminal now, if any.
    pub fn link(&self) -> Option<Arc<AgentLink>> {
        lock(&self.state).link.clone()
    }

    /// The agent link dropped; the PTY lives on the agent for its grace period.
    pub fn detach_link(&self, link: &Arc<AgentLink>) {
        let mut s = lock(&self.state);
        if s.link.as_ref().is_some_and(|l| Arc::ptr_eq(l, link)) {
            s.link = None;
        }
        drop(s);
        self.notify();
    }

    /// The offset up to which output is recorded (where a re-attach resumes).
    pub fn recorded_end(&self) -> u64 {
        lock(&self.state).recorded
    }

    /// Output from the agent whose first byte is at `offset`: bytes already held (a resend after
    /// a re-attach) are skipped, the rest is kept and announced to the viewers at once. Returns
    /// the new part, to be recorded with [`Terminal::record_output`] before the agent gets
    /// credit for it; `None` when nothing is new.
    pub fn on_output<'a>(&self, offset: u64, bytes: &'a [u8]) -> Option<&'a [u8]> {
        let mut s = lock(&self.state);
        if s.ended.is_some() || offset > s.end {
            return None;
        }
        let skip = (s.end - offset) as usize;
        if skip >= bytes.len() {
            return None;
        }
        let fresh = &bytes[skip..];
        s.ring.extend(fresh);
        s.end += fresh.len() as u64;
        let excess = s.ring.len().saturating_sub(RING_BYTES);
        if excess > 0 {
            s.ring.drain(..excess);
            s.ring_start += excess as u64;
        }
        drop(s);
        self.notify();
        Some(fresh)
    }

    /// Records output [`Terminal::on_output`] kept (buffered, see [`Terminal::flush_recording`]),
    /// then credits the agent if that is due. False when the recording could not be written:
    /// the terminal has then ended, and its end must be stored.
    pub fn record_output(&self, fresh: &[u8]) -> bool {
        let written = match lock(&self.recorder).as_mut() {
            Some(rec) => rec.output(fresh),
            None => Ok(()),
        };
        if let Err(e) = written {
            self.recording_failed(&e);
            return false;
        }
        self.credit()
    }

    /// Hands the buffered recording to the operating system and credits the agent for what it
    /// covers, if that is due. Called before any credit and by the watcher once a second, so
    /// the recording on disk lags a live terminal by at most that. False when the recording
    /// could not be written: the terminal has then ended, and its end must be stored.
    pub fn flush_recording(&self) -> bool {
        let flushed = lock(&self.recorder).as_mut().map(Recorder::flush);
        let mut s = lock(&self.state);
        match flushed {
            Some(Err(e)) => {
                drop(s);
                self.recording_failed(&e);
                return false;
            }
            Some(Ok(upto)) => s.recorded = s.recorded.max(upto),
            // Closed: everything went out when it closed.
            None => s.recorded = s.end,
        }
        self.credit_agent(&mut s);
        true
    }

    /// Flushes the recording and credits the agent when credit is due; nothing otherwise.
    fn credit(&self) -> bool {
        let due = {
            let s = lock(&self.state);
            let target = pacing_target(&s);
            target > s.acked_to_agent && credit_is_due(s.acked_to_agent, target, s.end)
        };
        !due || self.flush_recording()
    }

    /// Nothing may happen unrecorded: a recording that cannot be written ends the terminal,
    /// and the agent gets no credit for what was not recorded.
    fn recording_failed(&self, error: &std::io::Error) {
        tracing::error!(terminal = %self.id, %error, "recording write failed; ending the terminal");
        self.announce(
            NoticeLevel::Warn,
            "the recording could not be written, so the terminal was ended".into(),
        );
        self.end(EndReason::Terminated);
    }

    /// Grants the agent credit up to the slowest pacing viewer's acknowledgement (everything
    /// recorded when no such viewer is connected), when it is due.
    fn credit_agent(&self, s: &mut State) {
        let target = pacing_target(s).min(s.recorded);
        if target > s.acked_to_agent && credit_is_due(s.acked_to_agent, target, s.end) {
            s.acked_to_agent = target;
            if let Some(link) = &s.link {
                link.try_send(&GatewayMessage::Ack {
                    channel: self.id,
                    stream: OutputStream::Pty,
                    offset: target,
                });
            }
        }
    }

    /// The credit granted to the agent so far (after a re-attach it starts from there).
    pub fn acked_to_agent(&self) -> u64 {
        lock(&self.state).acked_to_agent
    }

    /// A viewer joins as `who`, having rendered everything before `from`.
    pub fn add_viewer(&self, from: u64, who: ViewerIdentity) -> u64 {
        let mut s = lock(&self.state);
        let id = s.next_viewer;
        s.next_viewer += 1;
        let acked = from.clamp(s.ring_start, s.end);
        s.viewers.insert(
            id,
            Viewer {
                acked,
                who,
                since: crate::time::now(),
                kicked: None,
            },
        );
        s.participants_version += 1;
        drop(s);
        self.notify();
        id
    }

    /// A viewer leaves. False when the credit this allowed found the recording unwritable: the
    /// terminal has then ended, and its end must be stored.
    #[must_use]
    pub fn remove_viewer(&self, viewer: u64) -> bool {
        let mut s = lock(&self.state);
        if s.viewers.remove(&viewer).is_some() {
            s.participants_version += 1;
        }
        drop(s);
        let recorded = self.credit();
        self.notify();
        recorded
    }

    /// Everyone watching now, and the version of that list.
    pub fn participants(&self) -> (u64, Vec<Participant>) {
        let s = lock(&self.state);
        (
            s.participants_version,
            viewers::participants(s.viewers.values()),
        )
    }

    pub fn participants_version(&self) -> u64 {
        lock(&self.state).participants_version
    }

    /// Tells every viewer matching `which` to leave; returns how many there were.
    fn kick(&self, kick: Kick, which: impl Fn(&ViewerIdentity) -> bool) -> usize {
        let mut s = lock(&self.state);
        let mut n = 0;
        for v in s.viewers.values_mut() {
            if v.kicked.is_none() && which(&v.who) {
                v.kicked = Some(kick);
                n += 1;
            }
        }
        if n > 0 {
            s.participants_version += 1;
        }
        drop(s);
        self.notify();
        n
    }

    /// A link was revoked or expired: its guests leave.
    pub fn kick_share(&self, share: ShareId) -> usize {
        self.kick(Kick::ShareEnded, |who| who.share == Some(share))
    }

    /// A participant was removed: all its connections leave.
    pub fn kick_participant(&self, participant: ParticipantId) -> usize {
        self.kick(Kick::Removed, |who| who.participant == participant)
    }

    /// A person's account was disabled: their watching of this terminal ends. (Their own
    /// terminals end with their work sessions, which say why.)
    pub fn kick_watcher(&self, user: UserId) -> usize {
        self.kick(Kick::AccountDisabled, |who| {
            who.participant.0 == user.0 && who.role == ParticipantRole::Watcher
        })
    }

    /// Whether (and why) a viewer was told to leave.
    pub fn kicked(&self, viewer: u64) -> Option<Kick> {
        lock(&self.state)
            .viewers
            .get(&viewer)
            .and_then(|v| v.kicked)
    }

    /// Sends a notice to every viewer.
    pub fn announce(&self, level: NoticeLevel, text: String) {
        // Nobody listening is fine.
        let _ = self.notices.send((level, text));
    }

    pub fn notices(&self) -> broadcast::Receiver<(NoticeLevel, String)> {
        self.notices.subscribe()
    }

    pub fn viewer_count(&self) -> usize {
        lock(&self.state).viewers.len()
    }

    /// A viewer has rendered everything before `offset`. False as for [`Terminal::remove_viewer`].
    #[must_use]
    pub fn viewer_ack(&self, viewer: u64, offset: u64) -> bool {
        let mut s = lock(&self.state);
        let end = s.end;
        if let Some(v) = s.viewers.get_mut(&viewer) {
            v.acked = v.acked.max(offset.min(end));
        }
        drop(s);
        let recorded = self.credit();
        self.notify();
        recorded
    }

    /// What a viewer that sent everything before `from` may send next: at most up to its
    /// acknowledgement plus one window, as a websh output frame (offset, then the bytes; empty
    /// when there is nothing). Returns the offset actually used (later than `from` when those
    /// bytes already left the ring) and the frame, built with one copy out of the ring.
    pub fn read_frame(&self, viewer: u64, from: u64, max: usize) -> (u64, Vec<u8>) {
        let s = lock(&self.state);
        // A viewer that fell behind the ring (only a non-pacing one can) is moved ahead.
        let acked = s
            .viewers
            .get(&viewer)
            .map_or(s.end, |v| v.acked)
            .max(s.ring_start);
        let from = from.max(s.ring_start);
        let limit = s.end.min(acked + VIEWER_WINDOW);
        if from >= limit {
            return (from, Vec::new());
        }
        let start = (from - s.ring_start) as usize;
        let n = ((limit - from) as usize).min(max);
        let mut frame = Vec::with_capacity(8 + n);
        frame.extend_from_slice(&from.to_be_bytes());
        // The ring is two slices once it has wrapped; the range may span both.
        let (head, tail) = s.ring.as_slices();
        let end = start + n;
        if start < head.len() {
            frame.extend_from_slice(&head[start..end.min(head.len())]);
        }
        if end > head.len() {
            frame.extend_from_slice(&tail[start.saturating_sub(head.len())..end - head.len()]);
        }
        (from, frame)
    }

    /// Keystrokes from a viewer: recorded as typed by `who`, then sent to the PTY. An input
    /// that cannot be recorded is not sent, and ends the terminal: `Err` then, and its end must
    /// be stored. `Ok(false)` when no agent link carries the terminal now.
    pub async fn input(&self, bytes: &[u8], who: &ViewerIdentity) -> Result<bool, ()> {
        let link = lock(&self.state).link.clone();
        let Some(link) = link else { return Ok(false) };
        let written = match lock(&self.recorder).as_mut() {
            Some(rec) => rec.input(bytes, who),
            None => Ok(()),
        };
        if let Err(e) = written {
            self.recording_failed(&e);
            return Err(());
        }
        Ok(link.send_input(self.id, bytes).await)
    }

    pub async fn resize(&self, cols: u16, rows: u16) {
        let link = lock(&self.state).link.clone();
        if let Some(rec) = lock(&self.recorder).as_mut() {
            let _ = rec.resize(cols, rows);
        }
        if let Some(link) = link {
            link.resize(self.id, cols, rows).await;
        }
    }

    /// The shell exited on the agent.
    pub fn exited(&self, code: i32) {
        lock(&self.state).exit = Some(code);
        self.close_recording();
        self.notify();
    }

    /// Ends the terminal from the gateway side (session ended, owner closed it, agent gone):
    /// kills the shell on the agent and tells every viewer.
    pub fn end(&self, reason: EndReason) {
        let mut s = lock(&self.state);
        if s.ended.is_some() || s.exit.is_some() {
            return;
        }
        s.ended = Some(reason);
        if let Some(link) = &s.link {
            link.try_send(&GatewayMessage::Close { channel: self.id });
        }
        drop(s);
        self.close_recording();
        self.notify();
    }

    fn close_recording(&self) {
        if let Some(mut rec) = lock(&self.recorder).take() {
            let _ = rec.finish();
        }
    }

    /// True exactly once, for whoever writes the terminal's end to the store.
    pub fn take_finalize(&self) -> bool {
        let mut s = lock(&self.state);
        let first = !s.finalized && (s.exit.is_some() || s.ended.is_some());
        if first {
            s.finalized = true;
        }
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_shared::share::ParticipantRole;

    fn terminal(dir: &std::path::Path) -> Arc<Terminal> {
        let recorder = Recorder::create(&dir.join("t.cast"), 80, 24, "test").expect("recording");
        let info = TerminalInfo {
            id: ChannelId(uuid::Uuid::new_v4()),
            work_session: Some(WorkSessionId::new()),
            token: None,
            owner: UserId::new(),
            owner_name: "ops".into(),
            server_id: ServerId::new(),
            server_name: "web-01".into(),
            run_as: None,
            started_at: crate::time::now(),
        };
        Terminal::new(info, recorder, 0, Vec::new())
    }

    /// Output as the agent link delivers it: kept, then recorded.
    fn output(term: &Terminal, offset: u64, bytes: &[u8]) -> bool {
        match term.on_output(offset, bytes) {
            Some(fresh) => term.record_output(fresh),
            None => true,
        }
    }

    fn break_recording(term: &Terminal) {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        lock(&term.recorder).as_mut().expect("open").redirect(full);
    }

    #[test]
    fn output_that_cannot_be_recorded_ends_the_terminal_uncredited() {
        let dir = tempfile::tempdir().unwrap();
        let term = terminal(dir.path());
        let mut notices = term.notices();
        // A quarter window at a time, so credit is due after each chunk that is recorded.
        let chunk = vec![b'x'; (CHANNEL_WINDOW / 4) as usize];
        let quarter = chunk.len() as u64;
        assert!(output(&term, 0, &chunk));
        assert_eq!(term.acked_to_agent(), quarter);
        break_recording(&term);
        assert!(!output(&term, quarter, &chunk), "the failure is reported");
        assert_eq!(term.snapshot().ended, Some(EndReason::Terminated));
        assert_eq!(
            term.acked_to_agent(),
            quarter,
            "no credit for unrecorded output"
        );
        assert_eq!(term.recorded_end(), quarter);
        let (level, text) = notices.try_recv().expect("a notice");
        assert_eq!(level, NoticeLevel::Warn);
        assert!(text.contains("recording"), "{text}");
        assert!(term.take_finalize(), "its end is to be stored");
    }

    #[test]
    fn a_read_only_viewer_that_stops_acknowledging_holds_no_credit_back() {
        let dir = tempfile::tempdir().unwrap();
        let term = terminal(dir.path());
        let owner = term.add_viewer(0, owner_identity());
        let guest = term.add_viewer(
            0,
            ViewerIdentity {
                participant: ParticipantId::new(),
                name: "guest".into(),
                role: ParticipantRole::Guest,
                read_only: true,
                share: None,
            },
        );
        let chunk = vec![b'x'; 64 * 1024];
        let mut offset = 0;
        for _ in 0..40 {
            assert!(output(&term, offset, &chunk));
            offset += chunk.len() as u64;
            assert!(term.viewer_ack(owner, offset));
        }
        // 2.5 MiB went by: the owner's acknowledgements alone decide the credit.
        assert_eq!(term.acked_to_agent(), offset);
        // The guest, still at 0, is moved ahead to the oldest byte held.
        let (from, frame) = term.read_frame(guest, 0, 1024);
        assert_eq!(from, offset - RING_BYTES as u64);
        assert_eq!(frame.len(), 8 + 1024);
    }

    #[test]
    fn frames_read_across_the_ring_s_wrap_hold_the_bytes_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let term = terminal(dir.path());
        let byte = |at: u64| (at % 251) as u8;
        let mut offset = 0u64;
        // 1.5 rings in uneven chunks: the deque wraps, and old bytes leave the front.
        while offset < RING_BYTES as u64 * 3 / 2 {
            let chunk: Vec<u8> = (offset..offset + 40_000).map(byte).collect();
            assert!(output(&term, offset, &chunk));
            offset += chunk.len() as u64;
        }
        let owner = term.add_viewer(0, owner_identity());
        let start = offset - RING_BYTES as u64;
        let mut at = start;
        while at < offset {
            assert!(term.viewer_ack(owner, at));
            let (from, frame) = term.read_frame(owner, at, 30_000);
            assert_eq!(from, at);
            assert_eq!(frame[..8], at.to_be_bytes());
            let expected: Vec<u8> = (at..at + (frame.len() - 8) as u64).map(byte).collect();
            assert_eq!(frame[8..], expected[..], "at {at}");
            assert!(frame.len() > 8);
            at += (frame.len() - 8) as u64;
        }
        assert_eq!(term.read_frame(owner, offset, 30_000).1, Vec::<u8>::new());
    }

    #[test]
    fn keystroke_echoes_are_credited_a_quarter_window_at_a_time_and_a_burst_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let term = terminal(dir.path());
        let owner = term.add_viewer(0, owner_identity());
        let mut offset = 0;
        // Echoes, each rendered at once: no credit frame for any of them...
        while offset + 2 < CHANNEL_WINDOW / 4 {
            assert!(output(&term, offset, b"ab"));
            offset += 2;
            assert!(term.viewer_ack(owner, offset));
            assert_eq!(term.acked_to_agent(), 0, "credited early at {offset}");
        }
        // ...until a quarter of the window is owed.
        assert!(output(&term, offset, b"ab"));
        offset += 2;
        assert!(term.viewer_ack(owner, offset));
        assert_eq!(term.acked_to_agent(), offset);
        // With half the window out, whatever the viewer renders is credited at once.
        let burst = vec![b'y'; (CHANNEL_WINDOW / 2) as usize];
        assert!(output(&term, offset, &burst));
        assert!(term.viewer_ack(owner, offset + 10));
        assert_eq!(term.acked_to_agent(), offset + 10);
    }

    fn owner_identity() -> ViewerIdentity {
        ViewerIdentity {
            participant: ParticipantId::new(),
            name: "ops".into(),
            role: ParticipantRole::Owner,
            read_only: false,
            share: None,
        }
    }
}
