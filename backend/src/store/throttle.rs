//! Failed attempts (sign-in, agent registration), kept in the database so limits hold across
//! restarts and replicas.
//!
//! An attempt is *reserved* before the expensive check: the count and the insert happen in one
//! write transaction, so a burst of parallel attempts cannot all slip under the limit. A
//! successful attempt releases its reservation.

use super::Db;
use super::StoreError;
use crate::time::{from_micros, to_micros};
use chrono::{DateTime, Duration, Utc};
use gatehouse_shared::WorkspaceId;

/// One throttle key and how many failures it may collect inside the window.
#[derive(Debug, Clone)]
pub struct Limit {
    pub key: String,
    pub max: i64,
}

/// Reserves one attempt under every limit, or returns the seconds to wait when any limit is
/// reached. The returned row ids are released with [`release`] when the attempt succeeds.
pub async fn reserve(
    db: &Db,
    ws: WorkspaceId,
    limits: &[Limit],
    now: DateTime<Utc>,
    window: Duration,
) -> Result<Result<Vec<i64>, u64>, StoreError> {
    let since = now - window;
    let mut tx = db.pool.begin_with("BEGIN IMMEDIATE").await?;
    for limit in limits {
        let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(at) FROM login_failures \
             WHERE workspace_id = ? AND throttle_key = ? AND at > ?",
        )
        .bind(ws.to_string())
        .bind(&limit.key)
        .bind(to_micros(since))
        .fetch_one(&mut *tx)
        .await?;
        if count >= limit.max {
            let oldest = oldest.map_or(now, from_micros);
            let wait = (oldest + window - now).num_seconds().max(1) as u64;
            return Ok(Err(wait));
        }
    }
    let mut ids = Vec::with_capacity(limits.len());
    for limit in limits {
        let done = sqlx::query(
            "INSERT INTO login_failures (workspace_id, throttle_key, at) VALUES (?, ?, ?)",
        )
        .bind(ws.to_string())
        .bind(&limit.key)
        .bind(to_micros(now))
        .execute(&mut *tx)
        .await?;
        ids.push(done.last_insert_rowid());
    }
    tx.commit().await?;
    Ok(Ok(ids))
}

/// Takes back reserved attempts (the attempt succeeded).
pub async fn release(db: &Db, ws: WorkspaceId, ids: &[i64]) -> Result<(), StoreError> {
    for id in ids {
        sqlx::query("DELETE FROM login_failures WHERE workspace_id = ? AND rowid = ?")
            .bind(ws.to_string())
            .bind(id)
            .execute(&db.pool)
            .await?;
    }
    Ok(())
}

/// Forgets every failure of `key` (after a successful sign-in of that account).
pub async fn clear(db: &Db, ws: WorkspaceId, key: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM login_failures WHERE workspace_id = ? AND throttle_key = ?")
        .bind(ws.to_string())
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Forgets failures older than `window`.
pub async fn purge_older_than(
    db: &Db,
    ws: WorkspaceId,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM login_failures WHERE workspace_id = ? AND at <= ?")
        .bind(ws.to_string())
        .bind(to_micros(now - window))
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}

/// Failures of `key` inside `window`, and the seconds until the oldest leaves it (for checks of
/// cheap operations, which record only actual failures).
pub async fn recent_failures(
    db: &Db,
    ws: WorkspaceId,
    key: &str,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<(i64, u64), StoreError> {
    let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM login_failures \
         WHERE workspace_id = ? AND throttle_key = ? AND at > ?",
    )
    .bind(ws.to_string())
    .bind(key)
    .bind(to_micros(now - window))
    .fetch_one(&db.pool)
    .await?;
    let wait = oldest.map_or(1, |o| {
        (from_micros(o) + window - now).num_seconds().max(1) as u64
    });
    Ok((count, wait))
}

/// Records one failure of `key`.
pub async fn record_failure(
    db: &Db,
    ws: WorkspaceId,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO login_failures (workspace_id, throttle_key, at) VALUES (?, ?, ?)")
        .bind(ws.to_string())
        .bind(key)
        .bind(to_micros(now))
        .execute(&db.pool)
        .await?;
    Ok(())
}
