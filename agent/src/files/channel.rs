//! The agent's side of file channels: resolves the run-as user, starts a `file-worker` as that
//! user, relays its answer, and for streamed reads and writes does the credit: a read sends at
//! most `FILE_WINDOW` bytes past the gateway's last ack; a write accepts at most `FILE_WINDOW`
//! bytes past the credit it announced, checks that upload frames are contiguous, and tells the
//! worker to commit only on `FileEnd`. File channels end with the link: a dropped link aborts
//! them all (an upload's temporary file is removed by its worker).

use super::frame::{self, Out, WorkerRequest};
use super::pace::Pacer;
use crate::runas::{self, RunAs};
use gatehouse_shared::agent_link::{
    encode_output, split_offset, AgentMessage, ChannelId, OutputStream, FILE_CHUNK_BYTES,
    FILE_WINDOW, MAX_MESSAGE_BYTES,
};
use gatehouse_shared::files::{FileErrorKind, FileOp, FileReply};
use std::collections::{HashMap, VecDeque};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::{mpsc, oneshot, Notify, Semaphore};
use tokio_tungstenite::tungstenite::Message;

/// Workers running at once; further operations wait for a turn (each worker is a process).
const MAX_WORKERS: usize = 64;
/// File channels open at once (running or waiting for a worker); more are refused, so a
/// misbehaving gateway cannot make the agent hold unbounded state.
const MAX_CHANNELS: usize = 4 * MAX_WORKERS;
/// How long an aborted upload's worker gets to remove its temporary file before it is killed.
const ABORT_GRACE: Duration = Duration::from_secs(30);
/// How long a worker that stopped reading an upload gets to say why.
const FAILURE_GRACE: Duration = Duration::from_secs(5);
/// Upload credit is announced after this many bytes went to the worker.
const CREDIT_STEP: u64 = FILE_WINDOW / 4;

/// Whom a file operation runs as, and what it may touch, as the gateway asked.
#[derive(Debug, Clone)]
pub struct OpenAs {
    pub user: Option<String>,
    pub allow_root: bool,
    /// `user` is the person's own account, which may be created when missing.
    pub provision: bool,
    /// Groups a created account joins.
    pub groups: Vec<String>,
    /// An API token's file rules, which the worker checks on every path it really opens.
    pub confine: Option<Vec<String>>,
}

/// Where a channel's messages go. `control` is the link's outbox; `bulk` carries a read's data
/// and the replies around it, in order, and the link's writer takes from the two in turn, so a
/// download never queues more than one frame ahead of a keystroke echo.
#[derive(Debug, Clone)]
pub struct Outboxes {
    pub control: mpsc::Sender<Message>,
    pub bulk: mpsc::Sender<Message>,
}

/// All file channels of the agent.
#[derive(Debug)]
pub struct FileService {
    roots: Vec<PathBuf>,
    worker_exe: PathBuf,
    workers: Arc<Semaphore>,
    channels: Mutex<HashMap<ChannelId, Arc<FileChannel>>>,
    /// Holds transfers (and tunnels, which share it) back while someone types in a terminal
    /// on this agent.
    pacer: Arc<Pacer>,
}

#[derive(Debug, Default)]
struct FileChannel {
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// Reads: the gateway took everything before this offset.
    acked: u64,
    /// Writes: upload bytes received and not yet handed to the worker (at most one window).
    queue: VecDeque<Vec<u8>>,
    /// Writes: where the next upload frame must start.
    next_in: u64,
    /// Writes: the credit announced; the gateway may send up to `credit + FILE_WINDOW`.
    credit: u64,
    /// Writes: the worker said it is ready and the gateway was told; data before that is a
    /// protocol fault (it would be buffered for an operation that may never start).
    ready: bool,
    ended: bool,
    cancelled: bool,
    /// Writes: the gateway broke the upload protocol; the upload is aborted with this.
    fault: Option<String>,
}

/// What an upload does next.
enum Step {
    Chunk(Vec<u8>),
    End,
    Cancelled,
    Fault(String),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl FileChannel {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state());
        self.changed.notify_waiters();
    }

    async fn cancelled(&self) {
        loop {
            let wait = self.changed.notified();
            if self.state().cancelled {
                return;
            }
            wait.await;
        }
    }

    /// Waits until the gateway's credit covers bytes up to `end`; false when cancelled.
    async fn credit_for(&self, end: u64) -> bool {
        loop {
            let wait = self.changed.notified();
            {
                let s = self.state();
                if s.cancelled {
                    return false;
                }
                if end <= s.acked.saturating_add(FILE_WINDOW) {
                    return true;
                }
            }
            wait.await;
        }
    }

    /// The next thing an upload must do. Cancel-safe: a step is taken only when returned.
    async fn next_step(&self) -> Step {
        loop {
            let wait = self.changed.notified();
            {
                let mut s = self.state();
                if s.cancelled {
                    return Step::Cancelled;
                }
                if let Some(fault) = s.fault.take() {
                    return Step::Fault(fault);
                }
                if let Some(chunk) = s.queue.pop_front() {
                    return Step::Chunk(chunk);
                }
                if s.ended {
                    return Step::End;
                }
            }
            wait.await;
        }
    }

    /// Whether to announce `consumed` as the new credit (and records it as announced).
    fn credit_due(&self, consumed: u64) -> bool {
        let mut s = self.state();
        if consumed >= s.credit + CREDIT_STEP {
            s.credit = consumed;
            return true;
        }
        false
    }

    /// Queues one upload frame, or records why the upload must be aborted.
    fn receive(&self, payload: &[u8]) {
        let mut s = self.state();
        if s.cancelled || s.fault.is_some() {
            return;
        }
        let fault = match split_offset(payload) {
            None => Some("a malformed upload frame".to_owned()),
            Some(_) if !s.ready => Some("upload data before the agent was ready".to_owned()),
            Some(_) if s.ended => Some("upload data after its end".to_owned()),
            Some((offset, _)) if offset != s.next_in => Some(format!(
                "upload data at offset {offset}, expected {}: a gap or an overlap",
                s.next_in
            )),
            Some((_, bytes)) if bytes.len() > FILE_CHUNK_BYTES => {
                Some("an upload frame over the chunk limit".to_owned())
            }
            Some((offset, bytes)) if offset + bytes.len() as u64 > s.credit + FILE_WINDOW => {
                Some("upload data beyond the granted credit".to_owned())
            }
            Some((_, bytes)) => {
                // An empty chunk would mean "commit" to the worker; it carries nothing anyway.
                if !bytes.is_empty() {
                    s.queue.push_back(bytes.to_vec());
                    s.next_in += bytes.len() as u64;
                }
                None
            }
        };
        if let Some(fault) = fault {
            s.queue.clear();
            s.fault = Some(fault);
        }
        drop(s);
        self.changed.notify_waiters();
    }
}

fn reply_message(channel: ChannelId, reply: FileReply) -> Message {
    let text = |reply| serde_json::to_string(&AgentMessage::FileReply { channel, reply });
    // Serialising our own enum cannot fail; the size is bounded by the worker's framing, and
    // checked again because the worker is not trusted that far.
    let json = match text(reply) {
        Ok(json) if json.len() <= MAX_MESSAGE_BYTES => json,
        _ => text(failed("the answer is too large to send")).unwrap_or_default(),
    };
    Message::text(json)
}

fn failed(message: &str) -> FileReply {
    FileReply::Error {
        kind: FileErrorKind::Io,
        message: message.to_owned(),
    }
}

const WORKER_DIED: &str = "the file worker ended without an answer";

async fn send(outbox: &mpsc::Sender<Message>, channel: ChannelId, reply: FileReply) {
    // A closed outbox means the link is gone, and with it the channel.
    let _ = outbox.send(reply_message(channel, reply)).await;
}

/// Reads the worker's next reply, or gives up when the channel is cancelled (`None`).
async fn next_reply(chan: &FileChannel, stdout: &mut ChildStdout) -> Option<FileReply> {
    tokio::select! {
        got = frame::read_out(stdout) => Some(match got {
            Ok(Some(Out::Reply(reply))) => reply,
            Ok(Some(Out::Data(_))) => failed("the file worker sent data out of turn"),
            Ok(None) | Err(_) => failed(WORKER_DIED),
        }),
        _ = chan.cancelled() => None,
    }
}

impl FileService {
    /// `roots` must be normalised (`paths::parse_roots`); `typing_rate_mib` caps all transfers
    /// together while someone types (0: never).
    pub fn new(roots: Vec<PathBuf>, typing_rate_mib: u64) -> Arc<Self> {
        // The worker is this very binary. Through /proc/self/exe it is found even when the
        // agent's directory is not searchable by the run-as user, or the binary was replaced
        // on disk by an upgrade.
        let proc_exe = Path::new("/proc/self/exe");
        let worker_exe = if proc_exe.exists() {
            proc_exe.to_path_buf()
        } else {
            std::env::current_exe().unwrap_or_else(|_| PathBuf::from("gatehouse-agent"))
        };
        Arc::new(FileService {
            roots,
            worker_exe,
            workers: Arc::new(Semaphore::new(MAX_WORKERS)),
            channels: Mutex::new(HashMap::new()),
            pacer: Arc::new(Pacer::new(typing_rate_mib)),
        })
    }

    /// The agent's one typing pacer, for other bulk traffic to yield to keystrokes as well.
    pub fn pacer(&self) -> Arc<Pacer> {
        self.pacer.clone()
    }

    /// A keystroke reached a terminal on this agent: transfers make room for its echo.
    pub fn keystroke(&self) {
        self.pacer.keystroke();
    }

    fn get(&self, channel: ChannelId) -> Option<Arc<FileChannel>> {
        lock(&self.channels).get(&channel).cloned()
    }

    /// Starts a file operation (`FileOpen`); its replies go to `out`.
    pub fn open(self: &Arc<Self>, channel: ChannelId, op: FileOp, open_as: OpenAs, out: Outboxes) {
        let chan = Arc::new(FileChannel::default());
        {
            let mut channels = lock(&self.channels);
            let refusal = if channels.contains_key(&channel) {
                Some("this channel id is already in use")
            } else if channels.len() >= MAX_CHANNELS {
                Some("too many file operations at once on this server; try again shortly")
            } else {
                None
            };
            if let Some(why) = refusal {
                drop(channels);
                let reply = failed(why);
                tokio::spawn(async move { send(&out.control, channel, reply).await });
                return;
            }
            channels.insert(channel, chan.clone());
        }
        let service = self.clone();
        tokio::spawn(async move {
            service.run(channel, &chan, op, &open_as, &out).await;
            let mut channels = lock(&service.channels);
            if channels
                .get(&channel)
                .is_some_and(|c| Arc::ptr_eq(c, &chan))
            {
                channels.remove(&channel);
            }
        });
    }

    /// An upload frame (`FileData` from the gateway).
    pub fn data(&self, channel: ChannelId, payload: &[u8]) {
        if let Some(chan) = self.get(channel) {
            chan.receive(payload);
        }
    }

    /// The upload is complete (`FileEnd`).
    pub fn end(&self, channel: ChannelId) {
        if let Some(chan) = self.get(channel) {
            chan.update(|s| s.ended = true);
        }
    }

    /// The gateway consumed a read's bytes before `offset`.
    pub fn ack(&self, channel: ChannelId, offset: u64) {
        if let Some(chan) = self.get(channel) {
            chan.update(|s| s.acked = s.acked.max(offset));
        }
    }

    /// Cancels a channel (`Close`); false when it is not a file channel.
    pub fn close(&self, channel: ChannelId) -> bool {
        let Some(chan) = lock(&self.channels).remove(&channel) else {
            return false;
        };
        chan.update(|s| s.cancelled = true);
        true
    }

    /// The link dropped: file channels do not survive it.
    pub fn abort_all(&self) {
        let all: Vec<_> = lock(&self.channels).drain().map(|(_, c)| c).collect();
        for chan in all {
            chan.update(|s| s.cancelled = true);
        }
    }

    fn spawn_worker(&self, run_as: &RunAs) -> io::Result<Child> {
        let mut cmd = tokio::process::Command::new(&self.worker_exe);
        cmd.arg0("gatehouse-agent")
            .arg("file-worker")
            .env_clear()
            .envs(run_as.environment(&[]))
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        runas::apply_to_command(&mut cmd, run_as);
        cmd.spawn()
    }

    async fn run(
        &self,
        channel: ChannelId,
        chan: &FileChannel,
        op: FileOp,
        open_as: &OpenAs,
        out: &Outboxes,
    ) {
        let request = runas::Request {
            user: open_as.user.as_deref(),
            allow_root: open_as.allow_root,
            provision: open_as.provision,
            groups: &open_as.groups,
        };
        let run_as = match runas::resolve(request) {
            Ok(run_as) => {
                crate::link::report_provisioned(&out.control, channel, &run_as);
                run_as
            }
            Err(message) => {
                let kind = FileErrorKind::PermissionDenied;
                return send(&out.control, channel, FileReply::Error { kind, message }).await;
            }
        };
        let _turn = tokio::select! {
            permit = self.workers.clone().acquire_owned() => permit,
            _ = chan.cancelled() => return,
        };
        let mut child = match self.spawn_worker(&run_as) {
            Ok(child) => child,
            Err(e) => {
                let message = format!("cannot start the file worker as {}: {e}", run_as.name);
                return send(&out.control, channel, failed(&message)).await;
            }
        };
        let (Some(mut stdin), Some(mut stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return send(&out.control, channel, failed(WORKER_DIED)).await;
        };
        widen_pipe(&stdin);
        let is_write = matches!(op, FileOp::Write { .. });
        let is_read = matches!(op, FileOp::Read { .. });
        let request = WorkerRequest {
            roots: self.roots.clone(),
            op,
            confine: open_as.confine.clone(),
        };
        let json = serde_json::to_vec(&request).unwrap_or_default();
        if frame::send_chunk(&mut stdin, &json).await.is_err() {
            send(&out.control, channel, failed(WORKER_DIED)).await;
        } else if is_write {
            upload(channel, chan, stdin, stdout, out, &self.pacer).await;
        } else if is_read {
            download(channel, chan, &mut stdout, out, &self.pacer).await;
        } else if let Some(reply) = next_reply(chan, &mut stdout).await {
            send(&out.control, channel, reply).await;
        }
        // An upload's worker is given time to remove its temporary file (its stdin is closed
        // by now); anything else is done or abandoned and may simply be killed.
        let grace = if is_write {
            ABORT_GRACE
        } else {
            Duration::ZERO
        };
        if tokio::time::timeout(grace, child.wait()).await.is_err() {
            if is_write {
                tracing::warn!(%channel, "a file worker did not end after an aborted upload");
            }
            let _ = child.kill().await;
        }
    }
}

/// Streams a read: the worker's data frames become `FileData` output frames numbered by offset,
/// sent only within the gateway's credit; `ReadStarted`, the data and the final reply all go
/// through the bulk outbox so they stay in order.
async fn download(
    channel: ChannelId,
    chan: &FileChannel,
    stdout: &mut ChildStdout,
    out: &Outboxes,
    pacer: &Pacer,
) {
    let mut sent = 0u64;
    loop {
        let got = tokio::select! {
            got = frame::read_out(stdout) => got,
            _ = chan.cancelled() => return,
        };
        match got {
            Ok(Some(Out::Data(bytes))) => {
                let end = sent + bytes.len() as u64;
                if !chan.credit_for(end).await {
                    return;
                }
                pacer.pace(bytes.len()).await;
                let frame = encode_output(channel, OutputStream::File, sent, &bytes);
                if out.bulk.send(Message::Binary(frame.into())).await.is_err() {
                    return;
                }
                sent = end;
            }
            Ok(Some(Out::Reply(reply))) => {
                let last = !matches!(reply, FileReply::ReadStarted { .. });
                // The size is what this side actually sent.
                let reply = match reply {
                    FileReply::Done {
                        sha256,
                        mtime,
                        version,
                        ..
                    } => FileReply::Done {
                        size: sent,
                        sha256,
                        mtime,
                        version,
                    },
                    other => other,
                };
                send(&out.bulk, channel, reply).await;
                if last {
                    return;
                }
            }
            Ok(None) | Err(_) => return send(&out.bulk, channel, failed(WORKER_DIED)).await,
        }
    }
}

/// How an upload's data phase ended.
enum Ending {
    /// The worker answered early: it failed (disk full, ...).
    Answered(FileReply),
    /// The worker stopped reading; its answer may still come.
    WorkerGone,
    Committing,
    Cancelled,
    Fault(String),
}

/// Runs a write: relays the worker's "ready", feeds it the upload within the credit, and
/// commits on `FileEnd`. Closing the worker's stdin without the commit marker aborts.
/// What a pipe to or from a worker holds: a few whole chunks, where the kernel's default (64
/// KiB) would split each chunk into several writes and wake both sides for each.
const PIPE_BYTES: i32 = 1024 * 1024;

fn widen_pipe(pipe: &impl std::os::fd::AsFd) {
    // Refused beyond the per-user pipe budget: the pipe then keeps its default size, which
    // only costs some speed.
    let _ = nix::fcntl::fcntl(pipe, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_BYTES));
}

async fn upload(
    channel: ChannelId,
    chan: &FileChannel,
    mut stdin: ChildStdin,
    mut stdout: ChildStdout,
    out: &Outboxes,
    pacer: &Pacer,
) {
    match next_reply(chan, &mut stdout).await {
        None => return,
        Some(FileReply::Ok) => {
            chan.state().ready = true;
            send(&out.control, channel, FileReply::Ok).await
        }
        Some(other) => return send(&out.control, channel, other).await,
    }
    // The worker's last answer comes at the commit, or earlier if it fails; read it aside.
    let (answer_tx, mut answer_rx) = oneshot::channel();
    let reader = tokio::spawn(async move {
        let answer = match frame::read_out(&mut stdout).await {
            Ok(Some(Out::Reply(reply))) => reply,
            _ => failed(WORKER_DIED),
        };
        let _ = answer_tx.send(answer);
    });
    let mut consumed = 0u64;
    let ending = loop {
        let step = tokio::select! {
            biased;
            answer = &mut answer_rx => break Ending::Answered(answer.unwrap_or_else(|_| failed(WORKER_DIED))),
            step = chan.next_step() => step,
        };
        match step {
            Step::Chunk(bytes) => {
                let written = tokio::select! {
                    // Paced before the worker takes it, so the credit to the gateway slows too.
                    written = async {
                        pacer.pace(bytes.len()).await;
                        frame::send_chunk(&mut stdin, &bytes).await
                    } => written,
                    // A half-written chunk is an abort to the worker, never a commit.
                    _ = chan.cancelled() => break Ending::Cancelled,
                };
                if written.is_err() {
                    break Ending::WorkerGone;
                }
                consumed += bytes.len() as u64;
                if chan.credit_due(consumed) {
                    let credit = AgentMessage::FileCredit {
                        channel,
                        offset: consumed,
                    };
                    let text = serde_json::to_string(&credit).unwrap_or_default();
                    let _ = out.control.send(Message::text(text)).await;
                }
            }
            Step::End => match frame::send_chunk(&mut stdin, &[]).await {
                Ok(()) => break Ending::Committing,
                Err(_) => break Ending::WorkerGone,
            },
            Step::Cancelled => break Ending::Cancelled,
            Step::Fault(fault) => break Ending::Fault(fault),
        }
    };
    // From here on the worker reads no more: closing its input aborts unless it committed.
    drop(stdin);
    let answer = match ending {
        Ending::Answered(reply) => Some(reply),
        // The sync and rename run to their end even if the gateway gives up meanwhile, so the
        // worker is never killed halfway through (it would leave its temporary file).
        Ending::Committing => Some(answer_rx.await.unwrap_or_else(|_| failed(WORKER_DIED))),
        Ending::WorkerGone => Some(
            tokio::time::timeout(FAILURE_GRACE, answer_rx)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_else(|| failed(WORKER_DIED)),
        ),
        Ending::Cancelled => None,
        Ending::Fault(fault) => Some(failed(&format!("upload aborted: {fault}"))),
    };
    reader.abort();
    if let Some(reply) = answer {
        send(&out.control, channel, reply).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_shared::agent_link::encode_output;

    fn payload(offset: u64, bytes: &[u8]) -> Vec<u8> {
        let ch = ChannelId(uuid::Uuid::nil());
        // The same layout the gateway sends: offset, then bytes (after the 17-byte header).
        encode_output(ch, OutputStream::File, offset, bytes)[17..].to_vec()
    }

    /// A write channel whose worker said it is ready.
    fn ready_channel() -> FileChannel {
        let chan = FileChannel::default();
        chan.state().ready = true;
        chan
    }

    #[test]
    fn uploads_before_the_worker_is_ready_are_a_fault() {
        let chan = FileChannel::default();
        chan.receive(&payload(0, b"early"));
        let s = chan.state();
        assert!(s
            .fault
            .as_deref()
            .unwrap()
            .contains("before the agent was ready"));
        assert!(
            s.queue.is_empty(),
            "nothing is buffered for an operation not started"
        );
    }

    #[test]
    fn uploads_must_be_contiguous() {
        let chan = ready_channel();
        chan.receive(&payload(0, b"abc"));
        chan.receive(&payload(3, b"de"));
        assert_eq!(chan.state().queue.len(), 2);
        chan.receive(&payload(4, b"overlap"));
        let s = chan.state();
        assert!(s.fault.as_deref().unwrap().contains("expected 5"));
        assert!(s.queue.is_empty(), "a faulty upload's data is dropped");
    }

    #[test]
    fn uploads_stay_within_credit() {
        let chan = ready_channel();
        let chunk = vec![0u8; FILE_CHUNK_BYTES];
        let mut offset = 0;
        while offset < FILE_WINDOW {
            chan.receive(&payload(offset, &chunk));
            offset += chunk.len() as u64;
        }
        assert!(chan.state().fault.is_none());
        chan.receive(&payload(offset, b"x"));
        assert!(chan.state().fault.as_deref().unwrap().contains("credit"));

        let chan = ready_channel();
        assert!(!chan.credit_due(CREDIT_STEP - 1));
        assert!(chan.credit_due(CREDIT_STEP));
        assert_eq!(chan.state().credit, CREDIT_STEP);
        let end = CREDIT_STEP + FILE_WINDOW;
        chan.receive(&payload(0, &[0u8; 16]));
        chan.state().next_in = end - 1;
        chan.receive(&payload(end - 1, b"y"));
        assert!(chan.state().fault.is_none(), "the new credit counts");
    }

    #[test]
    fn oversized_malformed_and_late_frames_abort() {
        for bad in [payload(0, &vec![0u8; FILE_CHUNK_BYTES + 1]), vec![1, 2, 3]] {
            let chan = FileChannel::default();
            chan.receive(&bad);
            assert!(chan.state().fault.is_some());
        }
        let chan = FileChannel::default();
        chan.update(|s| s.ended = true);
        chan.receive(&payload(0, b"late"));
        assert!(chan.state().fault.is_some());
    }

    #[tokio::test]
    async fn reads_wait_for_acks() {
        let chan = Arc::new(FileChannel::default());
        assert!(chan.credit_for(FILE_WINDOW).await);
        let waiter = {
            let chan = chan.clone();
            tokio::spawn(async move { chan.credit_for(FILE_WINDOW + 1).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        chan.update(|s| s.acked = 1);
        assert!(waiter.await.unwrap());
        let waiter = {
            let chan = chan.clone();
            tokio::spawn(async move { chan.credit_for(u64::MAX).await })
        };
        chan.update(|s| s.cancelled = true);
        assert!(!waiter.await.unwrap(), "cancelling ends the wait");
    }
}
