//! A command job as its stream sees it (`WS /ws/exec/{id}`): who owns it and with which
//! credential, what the gate must allow again on attach, its runs in the order the API lists
//! them, its viewers, and why the gateway ended it when it did.

use crate::core::gateway::capture::{ExecRunState, RunEnd};
use gatehouse_shared::exec_stream::StreamName;
use gatehouse_shared::websh::EndReason;
use gatehouse_shared::{TokenId, UserId, WorkSessionId};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use uuid::Uuid;

/// How long an ended job stays attachable, so a client that lost its socket near the end can
/// still fetch the tail and the exits.
pub const LINGER: std::time::Duration = std::time::Duration::from_secs(120);

/// Who started a job and what it runs, as the gate is asked again on attach.
#[derive(Debug, Clone)]
pub struct JobInfo {
    pub id: Uuid,
    pub owner: UserId,
    /// The API token it was started with: only that token attaches (and revoking it ends it).
    pub token: Option<TokenId>,
    pub work_session: Option<WorkSessionId>,
    /// The run-as user asked for.
    pub run_as: Option<String>,
    /// The command as the job names it (for the log).
    pub command: String,
    /// The argv when it runs without a shell (what a token's rules are matched against).
    pub argv: Option<Vec<String>>,
    pub stdin: bool,
    pub tty: bool,
}

pub struct LiveJob {
    pub info: JobInfo,
    /// In the order of the job's `runs` (by server name): a run's index is its place here.
    pub runs: Vec<Arc<ExecRunState>>,
    /// Shared by every run: any output, credit or end wakes the job's viewers.
    pub changed: Arc<Notify>,
    ended: Mutex<Option<EndReason>>,
    next_viewer: AtomicU64,
}

impl std::ops::Deref for LiveJob {
    type Target = JobInfo;
    fn deref(&self) -> &JobInfo {
        &self.info
    }
}

impl LiveJob {
    pub fn new(info: JobInfo, runs: Vec<Arc<ExecRunState>>, changed: Arc<Notify>) -> Arc<Self> {
        Arc::new(Self {
            info,
            runs,
            changed,
            ended: Mutex::new(None),
            next_viewer: AtomicU64::new(0),
        })
    }

    /// Why the gateway ended the job, if it did.
    pub fn ended(&self) -> Option<EndReason> {
        *self.ended.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every run ended.
    pub fn finished(&self) -> bool {
        self.runs.iter().all(|r| r.outcome().is_some())
    }

    /// The gateway ends the job: its viewers are told why, and every run still going is
    /// killed on its agent and ends as failed with `message`.
    pub fn end(&self, reason: EndReason, message: &str) {
        {
            let mut ended = self.ended.lock().unwrap_or_else(|e| e.into_inner());
            if ended.is_none() {
                *ended = Some(reason);
            }
        }
        for run in &self.runs {
            if run.outcome().is_none() {
                run.kill();
                run.finish(RunEnd::Failed(message.to_owned()));
            }
        }
        self.changed.notify_waiters();
    }

    /// A viewer attaches, having everything before the offsets in `from` (by run index and
    /// stream; a stream not named starts at 0).
    pub fn add_viewer(&self, from: &[(u16, StreamName, u64)]) -> u64 {
        let viewer = self.next_viewer.fetch_add(1, Ordering::Relaxed);
        for (index, run) in self.runs.iter().enumerate() {
            let at = |stream| {
                from.iter()
                    .find(|(i, s, _)| usize::from(*i) == index && *s == stream)
                    .map_or(0, |(_, _, offset)| *offset)
            };
            run.add_viewer(viewer, [at(StreamName::Stdout), at(StreamName::Stderr)]);
        }
        viewer
    }

    pub fn remove_viewer(&self, viewer: u64) {
        for run in &self.runs {
            run.remove_viewer(viewer);
        }
    }
}
