//! Device sign-in requests (RFC 8628): asked by a CLI, decided by a person in the console, turned
//! into a CLI sign-in once by the CLI's next poll.

use super::{parse_id, Db, StoreError, WriteTx};
use crate::time::{from_micros, opt_from_micros, to_micros};
use chrono::{DateTime, Utc};
use gatehouse_shared::{UserId, WorkspaceId};

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    Pending,
    Approved,
    Denied,
    /// Approved and already turned into a sign-in: the device code is spent.
    Issued,
}

impl DeviceStatus {
    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "pending" => DeviceStatus::Pending,
            "approved" => DeviceStatus::Approved,
            "denied" => DeviceStatus::Denied,
            "issued" => DeviceStatus::Issued,
            other => return Err(StoreError::Corrupt(format!("device status {other:?}"))),
        })
    }
}

#[derive(Debug, Clone)]
pub struct DeviceRequest {
    pub device_code_hash: String,
    pub user_code: String,
    pub client_name: String,
    pub address: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub interval_secs: i64,
    pub last_polled_at: Option<DateTime<Utc>>,
    pub status: DeviceStatus,
    pub user: Option<UserId>,
}

#[derive(sqlx::FromRow)]
struct Row {
    device_code_hash: String,
    user_code: String,
    client_name: String,
    address: String,
    created_at: i64,
    expires_at: i64,
    interval_secs: i64,
    last_polled_at: Option<i64>,
    status: String,
    user_id: Option<String>,
}

impl TryFrom<Row> for DeviceRequest {
    type Error = StoreError;

    fn try_from(row: Row) -> Result<Self, StoreError> {
        Ok(DeviceRequest {
            status: DeviceStatus::parse(&row.status)?,
            user: row.user_id.as_deref().map(parse_id).transpose()?,
            device_code_hash: row.device_code_hash,
            user_code: row.user_code,
            client_name: row.client_name,
            address: row.address,
            created_at: from_micros(row.created_at),
            expires_at: from_micros(row.expires_at),
            interval_secs: row.interval_secs,
            last_polled_at: opt_from_micros(row.last_polled_at),
        })
    }
}

const COLUMNS: &str = "device_code_hash, user_code, client_name, address, created_at, expires_at, \
                       interval_secs, last_polled_at, status, user_id";

pub struct NewDevice<'a> {
    pub device_code_hash: &'a str,
    pub user_code: &'a str,
    pub client_name: &'a str,
    pub address: &'a str,
    pub expires_at: DateTime<Utc>,
    pub interval_secs: i64,
}

/// Records a new request; `Duplicate` when its user code is taken (the caller draws another).
pub async fn insert(tx: &mut WriteTx, new: &NewDevice<'_>) -> Result<(), StoreError> {
    let (ws, at) = (tx.workspace(), tx.at());
    // Requests long past their expiry free their user codes; an hour keeps a late poll's
    // answer `expired_token` rather than an unknown code.
    sqlx::query("DELETE FROM device_requests WHERE workspace_id = ? AND expires_at < ?")
        .bind(ws.to_string())
        .bind(to_micros(at - chrono::Duration::hours(1)))
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO device_requests (device_code_hash, workspace_id, user_code, client_name, \
         address, created_at, expires_at, interval_secs, status) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
    )
    .bind(new.device_code_hash)
    .bind(ws.to_string())
    .bind(new.user_code)
    .bind(new.client_name)
    .bind(new.address)
    .bind(to_micros(at))
    .bind(to_micros(new.expires_at))
    .bind(new.interval_secs)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn by_device_code(
    db: &Db,
    ws: WorkspaceId,
    device_code_hash: &str,
) -> Result<Option<DeviceRequest>, StoreError> {
    find(db, ws, "device_code_hash", device_code_hash).await
}

pub async fn by_user_code(
    db: &Db,
    ws: WorkspaceId,
    user_code: &str,
) -> Result<Option<DeviceRequest>, StoreError> {
    find(db, ws, "user_code", user_code).await
}

/// The request whose `column` (one of the two unique keys) is `value`.
async fn find(
    db: &Db,
    ws: WorkspaceId,
    column: &'static str,
    value: &str,
) -> Result<Option<DeviceRequest>, StoreError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM device_requests WHERE workspace_id = ? AND {column} = ?"
    ))
    .bind(ws.to_string())
    .bind(value)
    .fetch_optional(&db.pool)
    .await?;
    row.map(DeviceRequest::try_from).transpose()
}

/// Records a poll at `at` and, when it came too soon, the longer interval the CLI was told.
pub async fn polled(
    db: &Db,
    ws: WorkspaceId,
    device_code_hash: &str,
    at: DateTime<Utc>,
    interval_secs: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE device_requests SET last_polled_at = ?, interval_secs = ? \
         WHERE workspace_id = ? AND device_code_hash = ?",
    )
    .bind(to_micros(at))
    .bind(interval_secs)
    .bind(ws.to_string())
    .bind(device_code_hash)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Approves or denies a pending, unexpired request as `user`; false if it was not pending.
pub async fn decide(
    tx: &mut WriteTx,
    user_code: &str,
    user: UserId,
    approve: bool,
) -> Result<bool, StoreError> {
    let (ws, at) = (tx.workspace(), tx.at());
    let done = sqlx::query(
        "UPDATE device_requests SET status = ?, user_id = ?, decided_at = ? \
         WHERE workspace_id = ? AND user_code = ? AND status = 'pending' AND expires_at > ?",
    )
    .bind(if approve { "approved" } else { "denied" })
    .bind(user.to_string())
    .bind(to_micros(at))
    .bind(ws.to_string())
    .bind(user_code)
    .bind(to_micros(at))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Spends an approved request; false if another poll spent it first.
pub async fn mark_issued(tx: &mut WriteTx, device_code_hash: &str) -> Result<bool, StoreError> {
    let ws = tx.workspace();
    let done = sqlx::query(
        "UPDATE device_requests SET status = 'issued' \
         WHERE workspace_id = ? AND device_code_hash = ? AND status = 'approved'",
    )
    .bind(ws.to_string())
    .bind(device_code_hash)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}
