//! Groups, their members, and the server-name patterns they grant.

use super::{parse_id, Db};
use super::{StoreError, WriteTx};
use crate::time::to_micros;
use chrono::{DateTime, Utc};
use gatehouse_shared::api::{Group, RunAsGrant};
use gatehouse_shared::{GroupId, UserId, WorkspaceId};

pub async fn insert(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    name: &str,
    now: DateTime<Utc>,
) -> Result<GroupId, StoreError> {
    let id = GroupId::new();
    sqlx::query("INSERT INTO groups (id, workspace_id, name, created_at) VALUES (?, ?, ?, ?)")
        .bind(id.to_string())
        .bind(ws.to_string())
        .bind(name)
        .bind(to_micros(now))
        .execute(tx.conn())
        .await?;
    Ok(id)
}

pub async fn id_by_name(
    db: &Db,
    ws: WorkspaceId,
    name: &str,
) -> Result<Option<GroupId>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM groups WHERE workspace_id = ? AND name = ?")
            .bind(ws.to_string())
            .bind(name)
            .fetch_optional(&db.pool)
            .await?;
    row.map(|(id,)| parse_id(&id)).transpose()
}

pub async fn get(db: &Db, ws: WorkspaceId, id: GroupId) -> Result<Option<Group>, StoreError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT name FROM groups WHERE workspace_id = ? AND id = ?")
            .bind(ws.to_string())
            .bind(id.to_string())
            .fetch_optional(&db.pool)
            .await?;
    let Some((name,)) = row else { return Ok(None) };
    let members: Vec<(String,)> = sqlx::query_as(
        "SELECT u.username FROM group_members m JOIN users u ON u.id = m.user_id \
         WHERE m.workspace_id = ? AND m.group_id = ? ORDER BY u.username",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_all(&db.pool)
    .await?;
    let patterns: Vec<(String,)> = sqlx::query_as(
        "SELECT pattern FROM group_server_patterns WHERE workspace_id = ? AND group_id = ? \
         ORDER BY pattern",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_all(&db.pool)
    .await?;
    let run_as: Vec<(String, String)> = sqlx::query_as(
        "SELECT account, pattern FROM group_run_as WHERE workspace_id = ? AND group_id = ? \
         ORDER BY account, pattern",
    )
    .bind(ws.to_string())
    .bind(id.to_string())
    .fetch_all(&db.pool)
    .await?;
    Ok(Some(Group {
        id,
        name,
        members: members.into_iter().map(|(m,)| m).collect(),
        server_patterns: patterns.into_iter().map(|(p,)| p).collect(),
        run_as: run_as
            .into_iter()
            .map(|(account, pattern)| RunAsGrant { account, pattern })
            .collect(),
    }))
}

pub async fn list(db: &Db, ws: WorkspaceId) -> Result<Vec<Group>, StoreError> {
    let ids: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM groups WHERE workspace_id = ? ORDER BY name")
            .bind(ws.to_string())
            .fetch_all(&db.pool)
            .await?;
    let mut groups = Vec::with_capacity(ids.len());
    for (id,) in ids {
        if let Some(group) = get(db, ws, parse_id(&id)?).await? {
            groups.push(group);
        }
    }
    Ok(groups)
}

pub async fn add_member(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    group: GroupId,
    user: UserId,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO group_members (workspace_id, group_id, user_id) VALUES (?, ?, ?) \
         ON CONFLICT DO NOTHING",
    )
    .bind(ws.to_string())
    .bind(group.to_string())
    .bind(user.to_string())
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn add_pattern(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    group: GroupId,
    pattern: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO group_server_patterns (workspace_id, group_id, pattern) VALUES (?, ?, ?) \
         ON CONFLICT DO NOTHING",
    )
    .bind(ws.to_string())
    .bind(group.to_string())
    .bind(pattern)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Grants `account` to the group's members on servers matching `pattern`; false when it was
/// already granted.
pub async fn add_run_as(
    tx: &mut WriteTx,
    group: GroupId,
    grant: &RunAsGrant,
) -> Result<bool, StoreError> {
    let ws = tx.workspace();
    let done = sqlx::query(
        "INSERT INTO group_run_as (workspace_id, group_id, account, pattern) VALUES (?, ?, ?, ?) \
         ON CONFLICT DO NOTHING",
    )
    .bind(ws.to_string())
    .bind(group.to_string())
    .bind(&grant.account)
    .bind(&grant.pattern)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The shared accounts `user`'s groups let them run as, each with the server pattern it holds on.
pub async fn run_as_grants_of(
    db: &Db,
    ws: WorkspaceId,
    user: UserId,
) -> Result<Vec<RunAsGrant>, StoreError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT r.account, r.pattern FROM group_run_as r \
         JOIN group_members m ON m.group_id = r.group_id \
         WHERE r.workspace_id = ? AND m.user_id = ? ORDER BY r.account, r.pattern",
    )
    .bind(ws.to_string())
    .bind(user.to_string())
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(account, pattern)| RunAsGrant { account, pattern })
        .collect())
}

/// Deletes a group (its members, patterns and run-as grants go with it); false when unknown.
pub async fn delete(tx: &mut WriteTx, group: GroupId) -> Result<bool, StoreError> {
    let ws = tx.workspace();
    let done = sqlx::query("DELETE FROM groups WHERE workspace_id = ? AND id = ?")
        .bind(ws.to_string())
        .bind(group.to_string())
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes `user` out of the group; false when they were not in it.
pub async fn remove_member(
    tx: &mut WriteTx,
    group: GroupId,
    user: UserId,
) -> Result<bool, StoreError> {
    let ws = tx.workspace();
    let done = sqlx::query(
        "DELETE FROM group_members WHERE workspace_id = ? AND group_id = ? AND user_id = ?",
    )
    .bind(ws.to_string())
    .bind(group.to_string())
    .bind(user.to_string())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes a server pattern from the group; false when it did not grant it.
pub async fn remove_pattern(
    tx: &mut WriteTx,
    group: GroupId,
    pattern: &str,
) -> Result<bool, StoreError> {
    let ws = tx.workspace();
    let done = sqlx::query(
        "DELETE FROM group_server_patterns WHERE workspace_id = ? AND group_id = ? AND pattern = ?",
    )
    .bind(ws.to_string())
    .bind(group.to_string())
    .bind(pattern)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every (group name, pattern) pair of the workspace, for labelling servers with their groups.
pub async fn all_patterns(db: &Db, ws: WorkspaceId) -> Result<Vec<(String, String)>, StoreError> {
    sqlx::query_as(
        "SELECT g.name, p.pattern FROM group_server_patterns p JOIN groups g ON g.id = p.group_id \
         WHERE p.workspace_id = ? ORDER BY g.name",
    )
    .bind(ws.to_string())
    .fetch_all(&db.pool)
    .await
    .map_err(StoreError::from)
}
