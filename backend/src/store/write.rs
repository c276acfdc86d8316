//! The one write path: a workspace-scoped transaction that cannot commit without its audit event.

use super::audit::{append, read_head, write_head, Head, NewEvent};
use super::Db;
use chrono::{DateTime, Utc};
use gatehouse_shared::audit::AuditEvent;
use gatehouse_shared::WorkspaceId;
use sqlx::{Sqlite, SqliteConnection, Transaction};

/// A store failure. The driver's error stays inside; callers learn only what they can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row with the same unique key exists.
    #[error("a row with this key already exists")]
    Duplicate,
    /// A stored value could not be read back (a corrupted or hand-edited row).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Anything else the database refused or failed at; logged where it is turned into a reply.
    #[error("database error: {0}")]
    Database(DriverError),
}

/// The database driver's own error, kept opaque so no layer above the store names the driver.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct DriverError(sqlx::Error);

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate,
            _ => StoreError::Database(DriverError(err)),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(DriverError(err.into()))
    }
}

/// A write transaction on one workspace. It is begun `IMMEDIATE`, so the audit chain's head and
/// every conditional update read inside it cannot interleave with another writer, and it ends
/// only through [`WriteTx::commit`], which appends the change's audit event first. Dropping it
/// rolls everything back.
pub struct WriteTx {
    tx: Transaction<'static, Sqlite>,
    workspace: WorkspaceId,
    at: DateTime<Utc>,
    /// The chain's head once this write has read it: a write that records many events (a
    /// command's results on a thousand servers) reads and records it once, not per event.
    head: Option<Head>,
}

impl WriteTx {
    /// Begins a write on `workspace`; every event appended in it is stamped `at`.
    pub async fn begin(
        db: &Db,
        workspace: WorkspaceId,
        at: DateTime<Utc>,
    ) -> Result<Self, StoreError> {
        let tx = db.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Self {
            tx,
            workspace,
            at,
            head: None,
        })
    }

    pub fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    /// The time this write happens at.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// The connection the store functions write through.
    pub(super) fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }

    /// Appends a further event to the chain inside this transaction (a change that is audited
    /// as more than one event).
    pub async fn audit(&mut self, event: NewEvent) -> Result<AuditEvent, StoreError> {
        let mut stored = self.audit_all(vec![event]).await?;
        stored
            .pop()
            .ok_or_else(|| StoreError::Corrupt("no audit event appended".into()))
    }

    /// Appends further events, in order, in one statement (a change audited as many events).
    pub async fn audit_all(
        &mut self,
        events: Vec<NewEvent>,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let head = match &mut self.head {
            Some(head) => head,
            none => none.insert(read_head(&mut self.tx, self.workspace).await?),
        };
        append(&mut self.tx, self.workspace, head, events, self.at).await
    }

    /// Appends the change's audit event, records the chain's new head, and commits all of it;
    /// if any of it fails, nothing is written.
    pub async fn commit(mut self, event: NewEvent) -> Result<AuditEvent, StoreError> {
        let stored = self.audit(event).await?;
        if let Some(head) = &self.head {
            write_head(&mut self.tx, self.workspace, head).await?;
        }
        self.tx.commit().await?;
        Ok(stored)
    }
}
