//! Shared terminal links, their guests and the one-connection tickets a join hands out.
//!
//! Password guesses are counted here, in the database, so the per-link backoff and the lock hold
//! across restarts and replicas. An attempt is *reserved* (counted as a failure) before the
//! password is checked, conditional on the count it read, so parallel guesses cannot all slip in
//! under one count; a right password gives its reservation back.

use super::{parse_id, Db};
use super::{StoreError, WriteTx};
use crate::time::{from_micros, opt_from_micros, to_micros};
use chrono::{DateTime, Utc};
use gatehouse_shared::share::{ShareInfo, MAX_FAILED_JOINS};
use gatehouse_shared::{ParticipantId, ShareId, UserId, WorkspaceId};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShareRow {
    pub id: String,
    pub websh_id: String,
    pub created_by_name: String,
    pub password_hash: String,
    pub read_only: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub failed_attempts: i64,
    pub last_failed_at: Option<i64>,
}

impl ShareRow {
    pub fn share_id(&self) -> Result<ShareId, StoreError> {
        parse_id(&self.id)
    }

    pub fn websh(&self) -> Result<Uuid, StoreError> {
        parse_id(&self.websh_id)
    }

    pub fn failures(&self) -> u32 {
        u32::try_from(self.failed_attempts.max(0)).unwrap_or(u32::MAX)
    }

    pub fn locked(&self) -> bool {
        self.failures() >= MAX_FAILED_JOINS
    }

    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= to_micros(now)
    }

    pub fn expires(&self) -> DateTime<Utc> {
        from_micros(self.expires_at)
    }

    /// Usable for a join right now.
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && !self.locked() && !self.expired(now)
    }

    pub fn info(&self, now: DateTime<Utc>) -> Result<ShareInfo, StoreError> {
        Ok(ShareInfo {
            id: self.share_id()?,
            websh: self.websh()?,
            read_only: self.read_only,
            created_by: self.created_by_name.clone(),
            created_at: from_micros(self.created_at),
            expires_at: self.expires(),
            revoked_at: opt_from_micros(self.revoked_at),
            failed_attempts: self.failures(),
            locked: self.locked(),
            active: self.active(now),
        })
    }
}

pub struct NewShare<'a> {
    pub id: ShareId,
    pub websh: Uuid,
    pub created_by: UserId,
    pub secret_hash: &'a str,
    pub password_hash: &'a str,
    pub read_only: bool,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    s: &NewShare<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO websh_shares (id, workspace_id, websh_id, created_by, secret_hash, \
         password_hash, read_only, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(s.id.to_string())
    .bind(ws.to_string())
    .bind(s.websh.to_string())
    .bind(s.created_by.to_string())
    .bind(s.secret_hash)
    .bind(s.password_hash)
    .bind(s.read_only)
    .bind(to_micros(now))
    .bind(to_micros(s.expires_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

const SELECT: &str = "SELECT s.id, s.websh_id, u.username AS created_by_name, s.password_hash, \
    s.read_only, s.created_at, s.expires_at, s.revoked_at, s.failed_attempts, s.last_failed_at \
    FROM websh_shares s JOIN users u ON u.id = s.created_by";

pub async fn by_secret_hash(
    db: &Db,
    ws: WorkspaceId,
    secret_hash: &str,
) -> Result<Option<ShareRow>, StoreError> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE s.workspace_id = ? AND s.secret_hash = ?"
    ))
    .bind(ws.to_string())
    .bind(secret_hash)
    .fetch_optional(&db.pool)
    .await
    .map_err(StoreError::from)
}

pub async fn get(db: &Db, ws: WorkspaceId, id: ShareId) -> Result<Option<ShareRow>, StoreError> {
    sqlx::query_as(&format!("{SELECT} WHERE s.workspace_id = ? AND s.id = ?"))
        .bind(ws.to_string())
        .bind(id.to_string())
        .fetch_optional(&db.pool)
        .await
        .map_err(StoreError::from)
}

/// Every link to a terminal, newest first.
pub async fn of_websh(db: &Db, ws: WorkspaceId, websh: Uuid) -> Result<Vec<ShareRow>, StoreError> {
    sqlx::query_as(&format!(
        "{SELECT} WHERE s.workspace_id = ? AND s.websh_id = ? ORDER BY s.created_at DESC, s.id"
    ))
    .bind(ws.to_string())
    .bind(websh.to_string())
    .fetch_all(&db.pool)
    .await
    .map_err(StoreError::from)
}

/// Marks a link revoked; false when it already was.
pub async fn revoke(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: ShareId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    stamp_once(tx, "websh_shares", "revoked_at", ws, &id.to_string(), now).await
}

/// Sets `table.column` to `now` on row `id` unless it is set already; true when this call set it.
/// (`table` and `column` are this module's own constants, never input.)
async fn stamp_once(
    tx: &mut WriteTx,
    table: &'static str,
    column: &'static str,
    ws: WorkspaceId,
    id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(&format!(
        "UPDATE {table} SET {column} = ? WHERE workspace_id = ? AND id = ? AND {column} IS NULL"
    ))
    .bind(to_micros(now))
    .bind(ws.to_string())
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts one password attempt as a failure in advance, if the link still has the failure count
/// `seen` (false: another attempt raced this one; refuse it rather than let both through).
pub async fn reserve_attempt(
    db: &Db,
    ws: WorkspaceId,
    share: &ShareRow,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE websh_shares SET failed_attempts = failed_attempts + 1, last_failed_at = ? \
         WHERE workspace_id = ? AND id = ? AND failed_attempts = ?",
    )
    .bind(to_micros(now))
    .bind(ws.to_string())
    .bind(&share.id)
    .bind(share.failed_attempts)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives back a reserved attempt whose password was right, restoring the earlier count and time
/// (failures before it still count towards the lock).
pub async fn release_attempt(db: &Db, ws: WorkspaceId, share: &ShareRow) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE websh_shares SET failed_attempts = ?, last_failed_at = ? \
         WHERE workspace_id = ? AND id = ? AND failed_attempts = ?",
    )
    .bind(share.failed_attempts)
    .bind(share.last_failed_at)
    .bind(ws.to_string())
    .bind(&share.id)
    .bind(share.failed_attempts + 1)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Active links per terminal (for the oversight list).
pub async fn active_counts(
    db: &Db,
    ws: WorkspaceId,
    now: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, StoreError> {
    sqlx::query_as(
        "SELECT websh_id, COUNT(*) FROM websh_shares WHERE workspace_id = ? AND revoked_at IS NULL \
         AND expires_at > ? AND failed_attempts < ? GROUP BY websh_id",
    )
    .bind(ws.to_string())
    .bind(to_micros(now))
    .bind(i64::from(MAX_FAILED_JOINS))
    .fetch_all(&db.pool)
    .await
    .map_err(StoreError::from)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ParticipantRow {
    pub id: String,
    pub share_id: String,
    pub name: String,
    pub joined_at: i64,
    pub removed_at: Option<i64>,
}

impl ParticipantRow {
    pub fn participant_id(&self) -> Result<ParticipantId, StoreError> {
        parse_id(&self.id)
    }
}

pub async fn insert_participant(
    tx: &mut WriteTx,
    share: ShareId,
    name: &str,
) -> Result<ParticipantRow, StoreError> {
    let (ws, now) = (tx.workspace(), tx.at());
    let id = ParticipantId::new();
    sqlx::query(
        "INSERT INTO share_participants (id, workspace_id, share_id, name, joined_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(ws.to_string())
    .bind(share.to_string())
    .bind(name)
    .bind(to_micros(now))
    .execute(tx.conn())
    .await?;
    Ok(ParticipantRow {
        id: id.to_string(),
        share_id: share.to_string(),
        name: name.to_owned(),
        joined_at: to_micros(now),
        removed_at: None,
    })
}

pub async fn participant(
    db: &Db,
    ws: WorkspaceId,
    id: ParticipantId,
) -> Result<Option<ParticipantRow>, StoreError> {
    sqlx::query_as(
        "SELECT id, share_id, name, joined_at, removed_at FROM share_participants \
         WHERE workspace_id = ? AND id = ?",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(&db.pool)
    .await
    .map_err(StoreError::from)
}

/// Marks a guest removed (a later join as this participant is refused).
pub async fn remove_participant(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: ParticipantId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    stamp_once(
        tx,
        "share_participants",
        "removed_at",
        ws,
        &id.to_string(),
        now,
    )
    .await
}

pub async fn insert_ticket(
    tx: &mut WriteTx,
    ticket_hash: &str,
    participant: ParticipantId,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO share_tickets (ticket_hash, workspace_id, participant_id, expires_at) \
         VALUES (?, ?, ?, ?)",
    )
    .bind(ticket_hash)
    .bind(tx.workspace().to_string())
    .bind(participant.to_string())
    .bind(to_micros(expires_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Uses a ticket up: the participant it was issued to, once, while it is fresh.
pub async fn take_ticket(
    db: &Db,
    ws: WorkspaceId,
    ticket_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<ParticipantId>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as(
        "UPDATE share_tickets SET used_at = ? WHERE workspace_id = ? AND ticket_hash = ? \
         AND used_at IS NULL AND expires_at > ? RETURNING participant_id",
    )
    .bind(to_micros(now))
    .bind(ws.to_string())
    .bind(ticket_hash)
    .bind(to_micros(now))
    .fetch_optional(&db.pool)
    .await?;
    row.map(|(id,)| parse_id(&id)).transpose()
}

/// Forgets tickets that can no longer be used.
pub async fn purge_tickets(
    db: &Db,
    ws: WorkspaceId,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM share_tickets WHERE workspace_id = ? AND expires_at <= ?")
        .bind(ws.to_string())
        .bind(to_micros(now))
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}
