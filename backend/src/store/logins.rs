//! Browser sign-in sessions: the cookie's hash, its CSRF token and the selected work session.

use super::Db;
use super::{StoreError, WriteTx};
use crate::time::to_micros;
use chrono::{DateTime, Utc};
use gatehouse_shared::{UserId, WorkSessionId, WorkspaceId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginRow {
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub expires_at: i64,
    pub mfa_verified_at: Option<i64>,
    pub active_work_session: Option<String>,
}

pub struct NewLogin<'a> {
    pub token_hash: &'a str,
    pub user_id: UserId,
    pub csrf_token: &'a str,
    pub expires_at: DateTime<Utc>,
    pub mfa_verified_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    login: &NewLogin<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO login_sessions (token_hash, workspace_id, user_id, csrf_token, created_at, \
         expires_at, mfa_verified_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(login.token_hash)
    .bind(ws.to_string())
    .bind(login.user_id.to_string())
    .bind(login.csrf_token)
    .bind(to_micros(now))
    .bind(to_micros(login.expires_at))
    .bind(login.mfa_verified_at.map(to_micros))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The unexpired sign-in whose cookie hashes to `token_hash`.
pub async fn find(
    db: &Db,
    ws: WorkspaceId,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<LoginRow>, StoreError> {
    sqlx::query_as(
        "SELECT token_hash, user_id, csrf_token, expires_at, mfa_verified_at, active_work_session \
         FROM login_sessions WHERE workspace_id = ? AND token_hash = ? AND expires_at > ?",
    )
    .bind(ws.to_string())
    .bind(token_hash)
    .bind(to_micros(now))
    .fetch_optional(&db.pool)
    .await
    .map_err(StoreError::from)
}

pub async fn delete(tx: &mut WriteTx, ws: WorkspaceId, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM login_sessions WHERE workspace_id = ? AND token_hash = ?")
        .bind(ws.to_string())
        .bind(token_hash)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Ends every sign-in of `user`; how many there were.
pub async fn delete_all_of(tx: &mut WriteTx, user: UserId) -> Result<u64, StoreError> {
    let ws = tx.workspace();
    let done = sqlx::query("DELETE FROM login_sessions WHERE workspace_id = ? AND user_id = ?")
        .bind(ws.to_string())
        .bind(user.to_string())
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected())
}

/// Ends every sign-in of `user` but the one whose token hash is `keep`; how many ended.
pub async fn delete_others_of(
    tx: &mut WriteTx,
    user: UserId,
    keep: &str,
) -> Result<u64, StoreError> {
    let ws = tx.workspace();
    let done = sqlx::query(
        "DELETE FROM login_sessions WHERE workspace_id = ? AND user_id = ? AND token_hash <> ?",
    )
    .bind(ws.to_string())
    .bind(user.to_string())
    .bind(keep)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// Records that this sign-in proved a one-time code at the write's time (step-up).
pub async fn set_mfa_verified(tx: &mut WriteTx, token_hash: &str) -> Result<bool, StoreError> {
    let (ws, at) = (tx.workspace(), tx.at());
    let done = sqlx::query(
        "UPDATE login_sessions SET mfa_verified_at = ? WHERE workspace_id = ? AND token_hash = ?",
    )
    .bind(to_micros(at))
    .bind(ws.to_string())
    .bind(token_hash)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_active_work_session(
    db: &Db,
    ws: WorkspaceId,
    token_hash: &str,
    session: Option<WorkSessionId>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE login_sessions SET active_work_session = ? WHERE workspace_id = ? AND token_hash = ?",
    )
    .bind(session.map(|s| s.to_string()))
    .bind(ws.to_string())
    .bind(token_hash)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Drops expired sign-ins; called by the scheduler now and then.
pub async fn purge_expired(
    db: &Db,
    ws: WorkspaceId,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM login_sessions WHERE workspace_id = ? AND expires_at <= ?")
        .bind(ws.to_string())
        .bind(to_micros(now))
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}
