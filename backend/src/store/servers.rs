//! Managed server entries and the registration tokens agents exchange for credentials.

use super::{like_literal, parse_id, Db};
use crate::time::{from_micros, opt_from_micros, to_micros};
use chrono::{DateTime, Utc};
use gatehouse_shared::server::Server;
use gatehouse_shared::{ServerId, UserId, WorkspaceId};
use sqlx::SqliteExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServerRow {
    pub id: String,
    pub name: String,
    pub os: Option<String>,
    pub platform: Option<String>,
    pub connected: bool,
    pub last_seen: Option<i64>,
    pub created_at: i64,
}

impl ServerRow {
    pub fn server_id(&self) -> Result<ServerId, sqlx::Error> {
        parse_id(&self.id)
    }

    /// The API shape; `groups` are the names of groups whose patterns match this server.
    pub fn to_server(&self, groups: Vec<String>) -> Result<Server, sqlx::Error> {
        Ok(Server {
            id: self.server_id()?,
            name: self.name.clone(),
            os: self.os.clone(),
            platform: self.platform.clone(),
            connected: self.connected,
            last_seen: opt_from_micros(self.last_seen),
            groups,
            created_at: from_micros(self.created_at),
        })
    }
}

const COLUMNS: &str = "id, name, os, platform, connected, last_seen, created_at";

pub async fn insert(
    db: impl SqliteExecutor<'_>,
    ws: WorkspaceId,
    name: &str,
    platform: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ServerRow, sqlx::Error> {
    let id = ServerId::new();
    sqlx::query(
        "INSERT INTO servers (id, workspace_id, name, platform, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(ws.to_string())
    .bind(name)
    .bind(platform)
    .bind(to_micros(now))
    .execute(db)
    .await?;
    Ok(ServerRow {
        id: id.to_string(),
        name: name.to_owned(),
        os: None,
        platform: platform.map(str::to_owned),
        connected: false,
        last_seen: None,
        created_at: to_micros(now),
    })
}

pub async fn by_id(
    db: &Db,
    ws: WorkspaceId,
    id: ServerId,
) -> Result<Option<ServerRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM servers WHERE workspace_id = ? AND id = ?"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(db)
    .await
}

pub async fn by_name(
    db: &Db,
    ws: WorkspaceId,
    name: &str,
) -> Result<Option<ServerRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM servers WHERE workspace_id = ? AND name = ?"
    ))
    .bind(ws.to_string())
    .bind(name)
    .fetch_optional(db)
    .await
}

/// Servers ordered by name, optionally filtered by name text and connection state.
pub async fn list(
    db: &Db,
    ws: WorkspaceId,
    q: Option<&str>,
    connected: Option<bool>,
) -> Result<Vec<ServerRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM servers WHERE workspace_id = ? \
         AND (? IS NULL OR name LIKE ? ESCAPE '\\') AND (? IS NULL OR connected = ?) ORDER BY name"
    ))
    .bind(ws.to_string())
    .bind(q)
    .bind(q.map(like_literal))
    .bind(connected)
    .bind(connected)
    .fetch_all(db)
    .await
}

pub async fn delete(
    db: impl SqliteExecutor<'_>,
    ws: WorkspaceId,
    id: ServerId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM servers WHERE workspace_id = ? AND id = ?")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_registration_token(
    db: impl SqliteExecutor<'_>,
    ws: WorkspaceId,
    token_hash: &str,
    created_by: UserId,
    expires_at: DateTime<Utc>,
    max_uses: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO registration_tokens (id, workspace_id, token_hash, created_by, created_at, \
         expires_at, max_uses) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(ws.to_string())
    .bind(token_hash)
    .bind(created_by.to_string())
    .bind(to_micros(now))
    .bind(to_micros(expires_at))
    .bind(max_uses)
    .execute(db)
    .await?;
    Ok(())
}

/// Spends one use of a live registration token; false when it is unknown, expired or used up.
pub async fn spend_registration_token<'c, E>(
    conn: E,
    ws: WorkspaceId,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    let done = sqlx::query(
        "UPDATE registration_tokens SET uses = uses + 1 WHERE workspace_id = ? AND token_hash = ? \
         AND uses < max_uses AND expires_at > ?",
    )
    .bind(ws.to_string())
    .bind(token_hash)
    .bind(to_micros(now))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the server connected or not, and when it was last seen.
pub async fn set_presence(
    db: &Db,
    ws: WorkspaceId,
    id: ServerId,
    connected: bool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE servers SET connected = ?, last_seen = ? WHERE workspace_id = ? AND id = ?",
    )
    .bind(connected)
    .bind(to_micros(now))
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// Every server is disconnected when the server process starts: links live in memory.
pub async fn reset_presence(db: &Db, ws: WorkspaceId) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE servers SET connected = 0 WHERE workspace_id = ? AND connected = 1")
        .bind(ws.to_string())
        .execute(db)
        .await?;
    Ok(())
}
