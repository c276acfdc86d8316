//! Tunnel records: who opened which target on which server, under what authority, and (once
//! it ended) why and with what totals. Live counters are kept in memory by the gateway.

use super::websh::Authority;
use super::{Db, StoreError, WriteTx};
use crate::time::to_micros;
use gatehouse_shared::{ServerId, UserId, WorkspaceId};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TunnelRow {
    pub id: String,
    pub owner_id: String,
    pub token_id: Option<String>,
    pub work_session_id: Option<String>,
    pub server_id: String,
    pub remote_host: String,
    pub remote_port: i64,
    pub created_at: i64,
    pub ended_at: Option<i64>,
}

pub struct NewTunnel<'a> {
    pub id: Uuid,
    pub owner: UserId,
    pub authority: Authority,
    pub server_id: ServerId,
    pub remote_host: &'a str,
    pub remote_port: u16,
}

pub async fn insert(tx: &mut WriteTx, t: &NewTunnel<'_>) -> Result<(), StoreError> {
    let (ws, now) = (tx.workspace(), tx.at());
    sqlx::query(
        "INSERT INTO tunnels (id, workspace_id, owner_id, token_id, work_session_id, server_id, \
         remote_host, remote_port, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(t.id.to_string())
    .bind(ws.to_string())
    .bind(t.owner.to_string())
    .bind(t.authority.token().map(|id| id.to_string()))
    .bind(t.authority.work_session().map(|id| id.to_string()))
    .bind(t.server_id.to_string())
    .bind(t.remote_host)
    .bind(i64::from(t.remote_port))
    .bind(to_micros(now))
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn get(db: &Db, ws: WorkspaceId, id: Uuid) -> Result<Option<TunnelRow>, StoreError> {
    sqlx::query_as(
        "SELECT id, owner_id, token_id, work_session_id, server_id, remote_host, remote_port, \
         created_at, ended_at FROM tunnels WHERE workspace_id = ? AND id = ?",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(&db.pool)
    .await
    .map_err(StoreError::from)
}

/// Every tunnel of the workspace that has not ended (after a restart: those a client may still
/// come back to carry).
pub async fn unended(db: &Db, ws: WorkspaceId) -> Result<Vec<Uuid>, StoreError> {
    let ids: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM tunnels WHERE workspace_id = ? AND ended_at IS NULL")
            .bind(ws.to_string())
            .fetch_all(&db.pool)
            .await?;
    Ok(ids.iter().filter_map(|(id,)| id.parse().ok()).collect())
}

/// The totals a tunnel ended with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    pub connections: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// Marks the tunnel ended; false when it already was (the first end wins).
pub async fn end(
    tx: &mut WriteTx,
    id: Uuid,
    reason: &str,
    totals: Totals,
) -> Result<bool, StoreError> {
    let (ws, now) = (tx.workspace(), tx.at());
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let done = sqlx::query(
        "UPDATE tunnels SET ended_at = ?, end_reason = ?, connections = ?, bytes_up = ?, \
         bytes_down = ? WHERE workspace_id = ? AND id = ? AND ended_at IS NULL",
    )
    .bind(to_micros(now))
    .bind(reason)
    .bind(clamp(totals.connections))
    .bind(clamp(totals.bytes_up))
    .bind(clamp(totals.bytes_down))
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}
