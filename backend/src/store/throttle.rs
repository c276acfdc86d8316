//! Failed sign-in attempts, kept in the database so limits hold across restarts and replicas.

use super::Db;
use crate::time::to_micros;
use chrono::{DateTime, Duration, Utc};
use gatehouse_shared::WorkspaceId;

/// Failures recorded for `key` since `since`, and the oldest of them.
pub async fn failures_since(
    db: &Db,
    ws: WorkspaceId,
    key: &str,
    since: DateTime<Utc>,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM login_failures \
         WHERE workspace_id = ? AND throttle_key = ? AND at > ?",
    )
    .bind(ws.to_string())
    .bind(key)
    .bind(to_micros(since))
    .fetch_one(db)
    .await
}

pub async fn record_failure(
    db: &Db,
    ws: WorkspaceId,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO login_failures (workspace_id, throttle_key, at) VALUES (?, ?, ?)")
        .bind(ws.to_string())
        .bind(key)
        .bind(to_micros(now))
        .execute(db)
        .await?;
    Ok(())
}

pub async fn clear(db: &Db, ws: WorkspaceId, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE workspace_id = ? AND throttle_key = ?")
        .bind(ws.to_string())
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets failures older than `window`.
pub async fn purge_older_than(
    db: &Db,
    ws: WorkspaceId,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM login_failures WHERE workspace_id = ? AND at <= ?")
        .bind(ws.to_string())
        .bind(to_micros(now - window))
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
