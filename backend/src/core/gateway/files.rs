//! File channels on an agent link: what the link routes into one (replies, write credit, file
//! bytes) and the HTTP side's handle on it. The transfers themselves live in `routes::files`.
//!
//! The link's reader never waits on a file channel: it hands each event to an unbounded queue
//! and moves on, so a slow download client can never hold up the terminal output behind it on
//! the same link. The queue stays bounded all the same, because file bytes are only accepted
//! within the credit the HTTP side granted (`FILE_WINDOW` past its last `ack`); an agent that
//! sends beyond it loses the channel, not the gateway its memory.

use crate::core::gate::GatePass;
use crate::core::gateway::hub::AgentLink;
use crate::core::gateway::watcher;
use crate::core::state::AppState;
use axum::body::Bytes;
use gatehouse_shared::agent_link::{ChannelId, GatewayMessage, OutputStream, FILE_WINDOW};
use gatehouse_shared::files::{FileOp, FileReply};
use gatehouse_shared::websh::EndReason;
use gatehouse_shared::WorkSessionId;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use uuid::Uuid;

/// The capability an agent announces in `hello` when it serves file operations.
pub const CAPABILITY: &str = "files";
/// The capability of an agent whose writes honour `mode` and `mtime` (an older one would
/// silently ignore them).
pub const KEEP_CAPABILITY: &str = "files.keep";

/// How long the gateway waits while the agent owes it something (an answer, credit, the end
/// of a transfer) before it gives the channel up.
pub const AGENT_IDLE: Duration = Duration::from_secs(120);

/// What arrives on a file channel, in the order the link received it.
#[derive(Debug)]
pub enum FileEvent {
    Reply(FileReply),
    /// Upload credit: the agent consumed everything before this offset.
    Credit(u64),
    /// Downloaded bytes whose first byte is at `offset`.
    Data {
        offset: u64,
        bytes: Bytes,
    },
    /// The gateway ended the channel; nothing more will arrive.
    Ended(ChannelEnd),
}

/// Why the gateway ended a file channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelEnd {
    /// The agent link dropped.
    LinkLost,
    /// The work session that authorized the channel stopped being usable.
    Session(EndReason),
    /// The agent broke the protocol on this channel (bytes beyond their credit).
    Protocol,
    /// The agent owed an answer and stayed silent for `AGENT_IDLE`.
    Timeout,
}

impl ChannelEnd {
    pub fn message(self) -> String {
        match self {
            ChannelEnd::LinkLost => "the agent disconnected during the file operation".into(),
            ChannelEnd::Session(reason) => format!(
                "the work session ended ({}) during the file operation",
                crate::core::gateway::service::end_reason_text(reason)
            ),
            ChannelEnd::Protocol => "the agent sent file data beyond its credit".into(),
            ChannelEnd::Timeout => "the agent stopped answering during the file operation".into(),
        }
    }
}

#[derive(Debug, Default)]
struct Credit {
    /// Download bytes the gateway has passed on: the agent may send up to here plus the window.
    granted: u64,
    /// The next download offset expected: frames must follow one another exactly, so an agent
    /// cannot make the gateway queue the same window over and over.
    received: u64,
    ended: bool,
    /// Why the gateway ended the channel, once it did.
    why: Option<ChannelEnd>,
}

/// The link's side of one file channel.
pub struct FileChannel {
    pub id: ChannelId,
    /// The session that authorized it: the channel ends when that session does.
    pub work_session: Option<WorkSessionId>,
    events: mpsc::UnboundedSender<FileEvent>,
    credit: Mutex<Credit>,
    /// Signalled when the gateway ends the channel, for a side that is not reading its events.
    ended: Notify,
}

impl FileChannel {
    fn new(work_session: Option<WorkSessionId>) -> (Arc<Self>, mpsc::UnboundedReceiver<FileEvent>) {
        let (events, rx) = mpsc::unbounded_channel();
        let channel = Arc::new(FileChannel {
            id: ChannelId(Uuid::new_v4()),
            work_session,
            events,
            credit: Mutex::default(),
            ended: Notify::new(),
        });
        (channel, rx)
    }

    fn credit(&self) -> std::sync::MutexGuard<'_, Credit> {
        self.credit.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An agent's reply.
    pub fn on_reply(&self, reply: FileReply) {
        if !self.credit().ended {
            let _ = self.events.send(FileEvent::Reply(reply));
        }
    }

    /// The agent's upload credit.
    pub fn on_credit(&self, offset: u64) {
        if !self.credit().ended {
            let _ = self.events.send(FileEvent::Credit(offset));
        }
    }

    /// Downloaded bytes; false when they go beyond the credit granted (the caller then ends the
    /// channel and the bytes are dropped, so the queue never holds more than one window).
    pub fn on_data(&self, offset: u64, bytes: Bytes) -> bool {
        let mut credit = self.credit();
        if credit.ended {
            return true;
        }
        let end = offset.saturating_add(bytes.len() as u64);
        if offset != credit.received || end > credit.granted.saturating_add(FILE_WINDOW) {
            return false;
        }
        credit.received = end;
        let _ = self.events.send(FileEvent::Data { offset, bytes });
        true
    }

    /// Ends the channel from the gateway side (the first end wins; later events are dropped).
    pub fn end(&self, why: ChannelEnd) {
        let mut credit = self.credit();
        if !credit.ended {
            credit.ended = true;
            credit.why = Some(why);
            let _ = self.events.send(FileEvent::Ended(why));
            // A stored permit: the waiter may start waiting only after this.
            self.ended.notify_one();
        }
    }
}

/// The HTTP side's end of a file channel. Dropping it unregisters the channel and, unless the
/// agent already finished it, tells the agent to abandon it (an upload's temporary file is
/// deleted, a read stops).
pub struct FileHandle {
    link: Arc<AgentLink>,
    channel: Arc<FileChannel>,
    events: mpsc::UnboundedReceiver<FileEvent>,
    settled: bool,
}

impl FileHandle {
    /// Opens a channel on `link` for `op`. The channel is registered before anything is sent,
    /// so no reply can be missed, and before the session is looked at again, so a revocation
    /// that raced the gate is either seen here or delivered to the channel by the watcher.
    pub async fn open(
        state: &AppState,
        link: &Arc<AgentLink>,
        pass: GatePass,
        op: FileOp,
    ) -> Result<Self, ChannelEnd> {
        let work_session = pass.session().map(|s| s.id);
        let (channel, events) = FileChannel::new(work_session);
        link.add_file(channel.clone());
        let mut handle = FileHandle {
            link: link.clone(),
            channel,
            events,
            settled: false,
        };
        if let Some(session) = work_session {
            if let Some(reason) = watcher::session_end(state, session).await {
                // Nothing was sent yet: there is nothing to close on the agent.
                handle.settled = true;
                return Err(ChannelEnd::Session(reason));
            }
        }
        if !link.open_file(handle.id(), pass, op).await {
            handle.settled = true;
            return Err(ChannelEnd::LinkLost);
        }
        Ok(handle)
    }

    pub fn id(&self) -> ChannelId {
        self.channel.id
    }

    pub fn link(&self) -> &Arc<AgentLink> {
        &self.link
    }

    /// The next event; `Ended(Timeout)` when the agent stays silent for `idle`.
    pub async fn next(&mut self, idle: Duration) -> FileEvent {
        match tokio::time::timeout(idle, self.events.recv()).await {
            Ok(Some(event)) => event,
            // The link dropped the channel without a word: only when the link itself is gone.
            Ok(None) => FileEvent::Ended(ChannelEnd::LinkLost),
            Err(_) => FileEvent::Ended(ChannelEnd::Timeout),
        }
    }

    /// The next reply, skipping stray credit or data; the gateway's end as an error.
    pub async fn reply(&mut self) -> Result<FileReply, ChannelEnd> {
        loop {
            match self.next(AGENT_IDLE).await {
                FileEvent::Reply(reply) => return Ok(reply),
                FileEvent::Ended(why) => return Err(why),
                FileEvent::Credit(_) | FileEvent::Data { .. } => {}
            }
        }
    }

    /// Resolves when the gateway ends the channel (link lost, session ended, protocol), for a
    /// side that is waiting on something else than the channel's events.
    pub async fn ended(&self) -> ChannelEnd {
        loop {
            if let Some(why) = self.channel.credit().why {
                return why;
            }
            self.channel.ended.notified().await;
        }
    }

    /// The download bytes before `offset` were passed on: credit the agent for more.
    pub fn grant(&self, offset: u64) {
        {
            let mut credit = self.channel.credit();
            if offset <= credit.granted {
                return;
            }
            credit.granted = offset;
        }
        self.link.try_send(&GatewayMessage::Ack {
            channel: self.id(),
            stream: OutputStream::File,
            offset,
        });
    }

    /// The agent finished the channel itself (a final reply): nothing to close on drop.
    pub fn settle(&mut self) {
        self.settled = true;
    }
}

impl Drop for FileHandle {
    fn drop(&mut self) {
        self.link.remove(self.channel.id);
        if !self.settled {
            self.link.try_send(&GatewayMessage::Close {
                channel: self.channel.id,
            });
        }
    }
}

/// Runs a one-shot operation (list, stat, mkdir, rename, delete) and returns the agent's reply.
pub async fn request(
    state: &AppState,
    link: &Arc<AgentLink>,
    pass: GatePass,
    op: FileOp,
) -> Result<FileReply, ChannelEnd> {
    let mut handle = FileHandle::open(state, link, pass, op).await?;
    let reply = handle.reply().await?;
    handle.settle();
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_bytes_are_accepted_only_within_their_credit() {
        let (channel, mut rx) = FileChannel::new(None);
        let window = FILE_WINDOW as usize;
        assert!(channel.on_data(0, Bytes::from(vec![0; window - 10])));
        assert!(channel.on_data(window as u64 - 10, Bytes::from(vec![0; 10])));
        // One byte past the window: refused, and not queued.
        assert!(!channel.on_data(FILE_WINDOW, Bytes::from_static(b"x")));
        channel.credit().granted = 100;
        assert!(channel.on_data(FILE_WINDOW, Bytes::from(vec![0; 100])));
        let mut queued = 0;
        while let Ok(FileEvent::Data { bytes, .. }) = rx.try_recv() {
            queued += bytes.len();
        }
        assert_eq!(queued, window + 100);
    }

    #[test]
    fn repeated_or_skipped_offsets_are_refused() {
        let (channel, mut rx) = FileChannel::new(None);
        assert!(channel.on_data(0, Bytes::from_static(b"abcd")));
        // The same frame again (a replay) and a gap are both refused and not queued.
        assert!(!channel.on_data(0, Bytes::from_static(b"abcd")));
        assert!(!channel.on_data(8, Bytes::from_static(b"ijkl")));
        assert!(channel.on_data(4, Bytes::from_static(b"efgh")));
        let mut offsets = Vec::new();
        while let Ok(FileEvent::Data { offset, .. }) = rx.try_recv() {
            offsets.push(offset);
        }
        assert_eq!(offsets, vec![0, 4]);
    }

    #[test]
    fn the_first_end_wins_and_silences_the_channel() {
        let (channel, mut rx) = FileChannel::new(None);
        channel.on_credit(5);
        channel.end(ChannelEnd::LinkLost);
        channel.end(ChannelEnd::Timeout);
        channel.on_reply(FileReply::Ok);
        assert!(channel.on_data(0, Bytes::from_static(b"late")));
        assert!(matches!(rx.try_recv(), Ok(FileEvent::Credit(5))));
        assert!(matches!(
            rx.try_recv(),
            Ok(FileEvent::Ended(ChannelEnd::LinkLost))
        ));
        assert!(rx.try_recv().is_err());
    }
}
