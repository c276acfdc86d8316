//! Shared state of the running server, cheap to clone into every handler.

use crate::config::Config;
use crate::core::gateway::hub::Hub;
use crate::store::{self, Db, StoreError};
use gatehouse_shared::lifecycle::Policy;
use gatehouse_shared::{Status, WorkSessionId, WorkspaceId};
use std::ops::Deref;
use std::sync::Arc;
use tokio::sync::{broadcast, Notify};

/// A work session changed state; live channels it authorized listen for this to end themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionChange {
    pub workspace: WorkspaceId,
    pub id: WorkSessionId,
    pub status: Status,
}

/// Why the server's state could not be opened at start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("opening the database: {0}")]
    Store(#[from] StoreError),
    #[error("preparing the recordings directory: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    /// The workspace this installation serves.
    pub workspace: WorkspaceId,
    pub config: Config,
    /// Wakes the scheduler when a deadline may have moved earlier.
    pub scheduler_wakeup: Notify,
    pub session_changes: broadcast::Sender<SessionChange>,
    /// Live agent links and terminals.
    pub hub: Hub,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Opens the database at `database_url` (running migrations) and prepares the workspace.
    pub async fn open(database_url: &str, config: Config) -> Result<Self, OpenError> {
        let db = store::open(database_url).await?;
        let workspace = store::default_workspace(&db).await?;
        // Links live in memory: after a restart no agent is connected until it dials in again.
        store::servers::reset_presence(&db, workspace).await?;
        std::fs::create_dir_all(config.data_dir.join("recordings"))?;
        let (session_changes, _) = broadcast::channel(1024);
        Ok(Self(Arc::new(Inner {
            db,
            workspace,
            config,
            scheduler_wakeup: Notify::new(),
            session_changes,
            hub: Hub::default(),
        })))
    }

    /// The workspace's lifecycle policy.
    pub async fn policy(&self) -> Result<Policy, StoreError> {
        let settings = store::workspace_settings(&self.db, self.workspace).await?;
        Ok(Policy {
            max_duration_secs: settings.max_session_secs,
        })
    }

    /// The recording file of a terminal.
    pub fn recording_path(&self, file: &str) -> std::path::PathBuf {
        self.config.data_dir.join("recordings").join(file)
    }

    /// Announces a state change to the scheduler and to every live channel.
    pub fn session_changed(&self, id: WorkSessionId, status: Status) {
        self.scheduler_wakeup.notify_one();
        // No receivers is fine: nothing live depends on this session.
        let _ = self.session_changes.send(SessionChange {
            workspace: self.workspace,
            id,
            status,
        });
    }
}
