//! Managed server entries and the registration tokens agents exchange for credentials.

use super::{like_literal, parse_id, Db};
use super::{StoreError, WriteTx};
use crate::time::{from_micros, opt_from_micros, to_micros};
use chrono::{DateTime, Utc};
use gatehouse_shared::server::{RegistrationTokenInfo, Server};
use gatehouse_shared::{ServerId, UserId, WorkspaceId};
use std::collections::HashMap;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServerRow {
    pub id: String,
    pub name: String,
    pub os: Option<String>,
    pub platform: Option<String>,
    pub connected: bool,
    pub last_seen: Option<i64>,
    pub created_at: i64,
    /// JSON list of group names (`provision_groups`).
    pub provision_groups: String,
    /// JSON list of `host:port` rules; `None` when staff never set it (the default applies).
    pub tunnel_allow: Option<String>,
}

impl ServerRow {
    pub fn server_id(&self) -> Result<ServerId, StoreError> {
        parse_id(&self.id)
    }

    /// The groups an account created on first use joins.
    pub fn provision_groups(&self) -> Result<Vec<String>, StoreError> {
        serde_json::from_str(&self.provision_groups)
            .map_err(|_| StoreError::Corrupt(format!("provision_groups of server {}", self.name)))
    }

    /// What tunnels through this server may reach (the default when never set).
    pub fn tunnel_allow(&self) -> Result<Vec<String>, StoreError> {
        match &self.tunnel_allow {
            None => Ok(gatehouse_shared::tunnel::DEFAULT_SERVER_ALLOW
                .iter()
                .map(|r| (*r).to_owned())
                .collect()),
            Some(json) => serde_json::from_str(json)
                .map_err(|_| StoreError::Corrupt(format!("tunnel_allow of server {}", self.name))),
        }
    }

    /// The API shape; `groups` are the names of groups whose patterns match this server.
    pub fn to_server(&self, groups: Vec<String>) -> Result<Server, StoreError> {
        Ok(Server {
            id: self.server_id()?,
            name: self.name.clone(),
            os: self.os.clone(),
            platform: self.platform.clone(),
            connected: self.connected,
            last_seen: opt_from_micros(self.last_seen),
            groups,
            provision_groups: self.provision_groups()?,
            tunnel_allow: self.tunnel_allow()?,
            created_at: from_micros(self.created_at),
        })
    }
}

const COLUMNS: &str =
    "id, name, os, platform, connected, last_seen, created_at, provision_groups, tunnel_allow";

pub async fn insert(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    name: &str,
    platform: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ServerRow, StoreError> {
    let id = ServerId::new();
    sqlx::query(
        "INSERT INTO servers (id, workspace_id, name, platform, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(ws.to_string())
    .bind(name)
    .bind(platform)
    .bind(to_micros(now))
    .execute(tx.conn())
    .await?;
    Ok(ServerRow {
        id: id.to_string(),
        name: name.to_owned(),
        os: None,
        platform: platform.map(str::to_owned),
        connected: false,
        last_seen: None,
        created_at: to_micros(now),
        provision_groups: "[]".to_owned(),
        tunnel_allow: None,
    })
}

pub async fn by_id(
    db: &Db,
    ws: WorkspaceId,
    id: ServerId,
) -> Result<Option<ServerRow>, StoreError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM servers WHERE workspace_id = ? AND id = ?"
    ))
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_optional(&db.pool)
    .await
    .map_err(StoreError::from)
}

pub async fn by_name(
    db: &Db,
    ws: WorkspaceId,
    name: &str,
) -> Result<Option<ServerRow>, StoreError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM servers WHERE workspace_id = ? AND name = ?"
    ))
    .bind(ws.to_string())
    .bind(name)
    .fetch_optional(&db.pool)
    .await
    .map_err(StoreError::from)
}

/// The entries named in `names` (those that exist), by name: one query for a fan-out's
/// servers.
pub async fn by_names(
    db: &Db,
    ws: WorkspaceId,
    names: &[String],
) -> Result<HashMap<String, ServerRow>, StoreError> {
    let list = serde_json::Value::from(names.to_vec()).to_string();
    let rows: Vec<ServerRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM servers WHERE workspace_id = ? \
         AND name IN (SELECT value FROM json_each(?))"
    ))
    .bind(ws.to_string())
    .bind(list)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.name.clone(), row))
        .collect())
}

/// Servers ordered by name, optionally filtered by name text and connection state.
pub async fn list(
    db: &Db,
    ws: WorkspaceId,
    q: Option<&str>,
    connected: Option<bool>,
) -> Result<Vec<ServerRow>, StoreError> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM servers WHERE workspace_id = ? \
         AND (? IS NULL OR name LIKE ? ESCAPE '\\') AND (? IS NULL OR connected = ?) ORDER BY name"
    ))
    .bind(ws.to_string())
    .bind(q)
    .bind(q.map(like_literal))
    .bind(connected)
    .bind(connected)
    .fetch_all(&db.pool)
    .await
    .map_err(StoreError::from)
}

pub async fn delete(tx: &mut WriteTx, ws: WorkspaceId, id: ServerId) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM servers WHERE workspace_id = ? AND id = ?")
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_registration_token(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    token_hash: &str,
    created_by: UserId,
    expires_at: DateTime<Utc>,
    max_uses: i64,
    now: DateTime<Utc>,
) -> Result<uuid::Uuid, StoreError> {
    let id = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO registration_tokens (id, workspace_id, token_hash, created_by, created_at, \
         expires_at, max_uses) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(ws.to_string())
    .bind(token_hash)
    .bind(created_by.to_string())
    .bind(to_micros(now))
    .bind(to_micros(expires_at))
    .bind(max_uses)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Registration tokens that can still be used at `now`, newest first.
pub async fn outstanding_registration_tokens(
    db: &Db,
    ws: WorkspaceId,
    now: DateTime<Utc>,
) -> Result<Vec<RegistrationTokenInfo>, StoreError> {
    let rows: Vec<(String, String, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT r.id, u.username, r.created_at, r.expires_at, r.max_uses, r.uses \
         FROM registration_tokens r JOIN users u ON u.id = r.created_by \
         WHERE r.workspace_id = ? AND r.expires_at > ? AND r.uses < r.max_uses \
         ORDER BY r.created_at DESC",
    )
    .bind(ws.to_string())
    .bind(to_micros(now))
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|(id, created_by, created, expires, max_uses, uses)| {
            Ok(RegistrationTokenInfo {
                id: parse_id(&id)?,
                created_by,
                created_at: from_micros(created),
                expires_at: from_micros(expires),
                max_uses,
                uses,
            })
        })
        .collect()
}

/// Ends a registration token that could still be used (it expires at the write's time);
/// false when there is no such outstanding token.
pub async fn revoke_registration_token(
    tx: &mut WriteTx,
    id: uuid::Uuid,
) -> Result<bool, StoreError> {
    let (ws, at) = (tx.workspace(), tx.at());
    let done = sqlx::query(
        "UPDATE registration_tokens SET expires_at = ? WHERE workspace_id = ? AND id = ? \
         AND expires_at > ? AND uses < max_uses",
    )
    .bind(to_micros(at))
    .bind(ws.to_string())
    .bind(id.to_string())
    .bind(to_micros(at))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Spends one use of a live registration token; false when it is unknown, expired or used up.
pub(super) async fn spend_registration_token<'c, E>(
    conn: E,
    ws: WorkspaceId,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError>
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

/// Marks the server connected or not as of the write's time, inside the write that audits the
/// link going up or down.
pub async fn set_presence(
    tx: &mut WriteTx,
    id: ServerId,
    connected: bool,
) -> Result<(), StoreError> {
    let (ws, at) = (tx.workspace(), tx.at());
    sqlx::query(
        "UPDATE servers SET connected = ?, last_seen = ? WHERE workspace_id = ? AND id = ?",
    )
    .bind(connected)
    .bind(to_micros(at))
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Moves a connected server's "last seen" forward. Bookkeeping, not a change of state: the
/// link's coming and going is what the audit log records.
pub async fn touch_last_seen(
    db: &Db,
    ws: WorkspaceId,
    id: ServerId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE servers SET last_seen = ? WHERE workspace_id = ? AND id = ? AND connected = 1",
    )
    .bind(to_micros(now))
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Every server is disconnected when the server process starts: links live in memory.
pub async fn reset_presence(db: &Db, ws: WorkspaceId) -> Result<(), StoreError> {
    sqlx::query("UPDATE servers SET connected = 0 WHERE workspace_id = ? AND connected = 1")
        .bind(ws.to_string())
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Sets the groups accounts created on first use join; false when no such server.
pub async fn set_provision_groups(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: ServerId,
    groups: &[String],
) -> Result<bool, StoreError> {
    let sql = "UPDATE servers SET provision_groups = ? WHERE workspace_id = ? AND id = ?";
    set_list(tx, ws, id, sql, groups).await
}

/// Sets what tunnels through the server may reach; false when no such server.
pub async fn set_tunnel_allow(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: ServerId,
    rules: &[String],
) -> Result<bool, StoreError> {
    let sql = "UPDATE servers SET tunnel_allow = ? WHERE workspace_id = ? AND id = ?";
    set_list(tx, ws, id, sql, rules).await
}

/// Writes one of the server's JSON list columns with `sql` (list, workspace, id).
async fn set_list(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: ServerId,
    sql: &'static str,
    list: &[String],
) -> Result<bool, StoreError> {
    let json = serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned());
    let done = sqlx::query(sql)
        .bind(json)
        .bind(ws.to_string())
        .bind(id.to_string())
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}
