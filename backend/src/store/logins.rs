//! Sign-ins of people, browser (a cookie) and `gate` CLI (a `ghs_` bearer secret): the secret's
//! hash, the CSRF token, step-up time, the selected work session, and what the person is shown
//! when listing them (client, name, address, times).

use super::Db;
use super::{StoreError, WriteTx};
use crate::time::to_micros;
use crate::time::{from_micros, opt_from_micros};
use chrono::{DateTime, Utc};
use gatehouse_shared::signin::{Signin, SigninClient};
use gatehouse_shared::{UserId, WorkSessionId, WorkspaceId};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginRow {
    pub id: String,
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub client: String,
    pub expires_at: i64,
    pub mfa_verified_at: Option<i64>,
    pub active_work_session: Option<String>,
    pub last_used_at: Option<i64>,
}

impl LoginRow {
    pub fn client(&self) -> Result<SigninClient, StoreError> {
        parse_client(&self.client)
    }
}

fn parse_client(text: &str) -> Result<SigninClient, StoreError> {
    SigninClient::parse(text).ok_or_else(|| StoreError::Corrupt(format!("sign-in client {text:?}")))
}

pub struct NewLogin<'a> {
    pub token_hash: &'a str,
    pub user_id: UserId,
    pub csrf_token: &'a str,
    pub expires_at: DateTime<Utc>,
    pub mfa_verified_at: Option<DateTime<Utc>>,
    pub client: SigninClient,
    pub client_name: Option<&'a str>,
    pub address: &'a str,
}

const COLUMNS: &str = "id, token_hash, user_id, csrf_token, client, expires_at, mfa_verified_at, \
                       active_work_session, last_used_at";

/// Records a new sign-in; its id, to name it by in lists and revocations.
pub async fn insert(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    login: &NewLogin<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO login_sessions (id, token_hash, workspace_id, user_id, csrf_token, created_at, \
         expires_at, mfa_verified_at, client, client_name, address, last_used_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(login.token_hash)
    .bind(ws.to_string())
    .bind(login.user_id.to_string())
    .bind(login.csrf_token)
    .bind(to_micros(now))
    .bind(to_micros(login.expires_at))
    .bind(login.mfa_verified_at.map(to_micros))
    .bind(login.client.as_str())
    .bind(login.client_name)
    .bind(login.address)
    .bind(to_micros(now))
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// The unexpired sign-in whose cookie hashes to `token_hash`.
pub async fn find(
    db: &Db,
    ws: WorkspaceId,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<LoginRow>, StoreError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM login_sessions \
         WHERE workspace_id = ? AND token_hash = ? AND expires_at > ?"
    ))
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

/// Notes that a sign-in was used now (for the list people see). Bookkeeping, not a change of
/// anything anyone decided, so it is not audited.
pub async fn touch(
    db: &Db,
    ws: WorkspaceId,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE login_sessions SET last_used_at = ? WHERE workspace_id = ? AND token_hash = ?",
    )
    .bind(to_micros(now))
    .bind(ws.to_string())
    .bind(token_hash)
    .execute(&db.pool)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SigninRow {
    id: String,
    token_hash: String,
    client: String,
    client_name: Option<String>,
    address: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: i64,
}

/// The unexpired sign-ins of `user`, newest first; `current` is the caller's own token hash.
pub async fn list_of(
    db: &Db,
    ws: WorkspaceId,
    user: UserId,
    current: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<Signin>, StoreError> {
    let rows: Vec<SigninRow> = sqlx::query_as(
        "SELECT id, token_hash, client, client_name, address, created_at, last_used_at, expires_at \
         FROM login_sessions WHERE workspace_id = ? AND user_id = ? AND expires_at > ? \
         ORDER BY created_at DESC, id",
    )
    .bind(ws.to_string())
    .bind(user.to_string())
    .bind(to_micros(now))
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Signin {
                id: super::parse_id::<Uuid>(&row.id)?,
                client: parse_client(&row.client)?,
                client_name: row.client_name,
                address: row.address,
                created_at: from_micros(row.created_at),
                last_used_at: opt_from_micros(row.last_used_at),
                expires_at: from_micros(row.expires_at),
                current: current == Some(row.token_hash.as_str()),
            })
        })
        .collect()
}

/// Ends `user`'s sign-in `id`; its client if there was one to end.
pub async fn delete_by_id(
    tx: &mut WriteTx,
    user: UserId,
    id: Uuid,
) -> Result<Option<SigninClient>, StoreError> {
    let ws = tx.workspace();
    let client: Option<String> = sqlx::query_scalar(
        "DELETE FROM login_sessions WHERE workspace_id = ? AND user_id = ? AND id = ? \
         RETURNING client",
    )
    .bind(ws.to_string())
    .bind(user.to_string())
    .bind(id.to_string())
    .fetch_optional(tx.conn())
    .await?;
    Ok(client.as_deref().and_then(SigninClient::parse))
}
