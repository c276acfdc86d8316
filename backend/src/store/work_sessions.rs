//! Work sessions and their servers; the list query behind the console's filter bar.

use super::{like_literal, parse_id, Db};
use super::{StoreError, WriteTx};
use crate::time::{from_micros, opt_from_micros, to_micros};
use chrono::{DateTime, Utc};
use gatehouse_shared::work_session::{Adjustments, ServerRef};
use gatehouse_shared::{Scope, Status, UserId, UserRef, WorkSession, WorkSessionId, WorkspaceId};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::collections::HashMap;

#[derive(Debug, sqlx::FromRow)]
struct SessionRow {
    id: String,
    purpose: String,
    status: String,
    scopes: String,
    requested_by: String,
    requested_by_name: String,
    assignee: String,
    assignee_name: String,
    approved_by: Option<String>,
    approved_by_name: Option<String>,
    decision_reason: Option<String>,
    adjustments: Option<String>,
    sudo_commands: Option<String>,
    tunnel_ports: Option<String>,
    starts_at: Option<i64>,
    duration_secs: Option<i64>,
    expires_at: Option<i64>,
    created_at: i64,
    decided_at: Option<i64>,
    activated_at: Option<i64>,
    ended_at: Option<i64>,
}

fn decode_err(what: &str) -> StoreError {
    StoreError::Corrupt(format!("malformed {what} in work_sessions"))
}

impl SessionRow {
    fn into_session(self, servers: Vec<ServerRef>) -> Result<WorkSession, StoreError> {
        let scopes = self
            .scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<Scope>().map_err(|_| decode_err("scope")))
            .collect::<Result<Vec<_>, _>>()?;
        let approved_by = match (self.approved_by, self.approved_by_name) {
            (Some(id), Some(username)) => Some(UserRef {
                id: parse_id(&id)?,
                username,
            }),
            _ => None,
        };
        let adjustments = self
            .adjustments
            .map(|a| serde_json::from_str::<Adjustments>(&a).map_err(|_| decode_err("adjustments")))
            .transpose()?;
        let sudo_commands = self
            .sudo_commands
            .map(|a| {
                serde_json::from_str::<Vec<String>>(&a).map_err(|_| decode_err("sudo_commands"))
            })
            .transpose()?
            .unwrap_or_default();
        let tunnel_ports = self
            .tunnel_ports
            .map(|a| serde_json::from_str::<Vec<u16>>(&a).map_err(|_| decode_err("tunnel_ports")))
            .transpose()?
            .unwrap_or_default();
        Ok(WorkSession {
            id: parse_id(&self.id)?,
            purpose: self.purpose,
            status: self.status.parse().map_err(|_| decode_err("status"))?,
            scopes,
            servers,
            sudo_commands,
            tunnel_ports,
            requested_by: UserRef {
                id: parse_id(&self.requested_by)?,
                username: self.requested_by_name,
            },
            assignee: UserRef {
                id: parse_id(&self.assignee)?,
                username: self.assignee_name,
            },
            approved_by,
            decision_reason: self.decision_reason,
            adjustments,
            starts_at: opt_from_micros(self.starts_at),
            duration_secs: self.duration_secs,
            expires_at: opt_from_micros(self.expires_at),
            created_at: from_micros(self.created_at),
            decided_at: opt_from_micros(self.decided_at),
            activated_at: opt_from_micros(self.activated_at),
            ended_at: opt_from_micros(self.ended_at),
        })
    }
}

const SELECT: &str = "SELECT ws.id, ws.purpose, ws.status, ws.scopes, \
    ws.requested_by, ru.username AS requested_by_name, ws.assignee, au.username AS assignee_name, \
    ws.approved_by, pu.username AS approved_by_name, ws.decision_reason, ws.adjustments, \
    ws.sudo_commands, ws.tunnel_ports, ws.starts_at, ws.duration_secs, ws.expires_at, ws.created_at, ws.decided_at, \
    ws.activated_at, ws.ended_at \
    FROM work_sessions ws \
    JOIN users ru ON ru.id = ws.requested_by \
    JOIN users au ON au.id = ws.assignee \
    LEFT JOIN users pu ON pu.id = ws.approved_by";

fn scopes_text(scopes: &[Scope]) -> String {
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    names.join(",")
}

/// A declared list as stored: a JSON array, or NULL when nothing was declared.
fn list_text<T: serde::Serialize>(list: &[T]) -> Option<String> {
    (!list.is_empty()).then(|| serde_json::json!(list).to_string())
}

fn adjustments_text(s: &WorkSession) -> Option<String> {
    s.adjustments
        .as_ref()
        .map(|a| serde_json::json!(a).to_string())
}

/// Inserts a new session and its servers (inside the caller's transaction).
pub async fn insert(tx: &mut WriteTx, ws: WorkspaceId, s: &WorkSession) -> Result<(), StoreError> {
    let conn = tx.conn();
    sqlx::query(
        "INSERT INTO work_sessions (id, workspace_id, purpose, status, scopes, requested_by, \
         assignee, approved_by, decision_reason, adjustments, starts_at, duration_secs, expires_at, \
         created_at, decided_at, activated_at, ended_at, next_deadline, sudo_commands, \
         tunnel_ports) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(s.id.to_string())
    .bind(ws.to_string())
    .bind(&s.purpose)
    .bind(s.status.as_str())
    .bind(scopes_text(&s.scopes))
    .bind(s.requested_by.id.to_string())
    .bind(s.assignee.id.to_string())
    .bind(s.approved_by.as_ref().map(|u| u.id.to_string()))
    .bind(&s.decision_reason)
    .bind(adjustments_text(s))
    .bind(s.starts_at.map(to_micros))
    .bind(s.duration_secs)
    .bind(s.expires_at.map(to_micros))
    .bind(to_micros(s.created_at))
    .bind(s.decided_at.map(to_micros))
    .bind(s.activated_at.map(to_micros))
    .bind(s.ended_at.map(to_micros))
    .bind(s.next_deadline().map(to_micros))
    .bind(list_text(&s.sudo_commands))
    .bind(list_text(&s.tunnel_ports))
    .execute(&mut *conn)
    .await?;
    for server in &s.servers {
        sqlx::query(
            "INSERT INTO work_session_servers (workspace_id, work_session_id, server_id, server_name) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(ws.to_string())
        .bind(s.id.to_string())
        .bind(server.id.to_string())
        .bind(&server.name)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Writes a transition's result, only if the row is still in `expected` (optimistic check:
/// two racing approvers cannot both win). Returns false when someone else changed it first.
pub async fn update(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    s: &WorkSession,
    expected: Status,
) -> Result<bool, StoreError> {
    let conn = tx.conn();
    let done = sqlx::query(
        "UPDATE work_sessions SET status = ?, scopes = ?, approved_by = ?, decision_reason = ?, \
         adjustments = ?, duration_secs = ?, expires_at = ?, decided_at = ?, activated_at = ?, \
         ended_at = ?, next_deadline = ?, sudo_commands = ?, tunnel_ports = ? \
         WHERE workspace_id = ? AND id = ? AND status = ?",
    )
    .bind(s.status.as_str())
    .bind(scopes_text(&s.scopes))
    .bind(s.approved_by.as_ref().map(|u| u.id.to_string()))
    .bind(&s.decision_reason)
    .bind(adjustments_text(s))
    .bind(s.duration_secs)
    .bind(s.expires_at.map(to_micros))
    .bind(s.decided_at.map(to_micros))
    .bind(s.activated_at.map(to_micros))
    .bind(s.ended_at.map(to_micros))
    .bind(s.next_deadline().map(to_micros))
    .bind(list_text(&s.sudo_commands))
    .bind(list_text(&s.tunnel_ports))
    .bind(ws.to_string())
    .bind(s.id.to_string())
    .bind(expected.as_str())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    // Narrowing removes servers; the list only ever shrinks.
    let keep: Vec<String> = s.servers.iter().map(|x| x.id.to_string()).collect();
    let mut q =
        QueryBuilder::<Sqlite>::new("DELETE FROM work_session_servers WHERE workspace_id = ");
    q.push_bind(ws.to_string())
        .push(" AND work_session_id = ")
        .push_bind(s.id.to_string())
        .push(" AND server_id NOT IN (");
    let mut sep = q.separated(", ");
    for id in keep {
        sep.push_bind(id);
    }
    q.push(")");
    q.build().execute(&mut *conn).await?;
    Ok(true)
}

async fn servers_of(
    db: impl sqlx::Executor<'_, Database = Sqlite>,
    ws: WorkspaceId,
    ids: &[String],
) -> Result<HashMap<String, Vec<ServerRef>>, StoreError> {
    let mut map: HashMap<String, Vec<ServerRef>> = HashMap::new();
    if ids.is_empty() {
        return Ok(map);
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "SELECT work_session_id, server_id, server_name FROM work_session_servers \
         WHERE workspace_id = ",
    );
    q.push_bind(ws.to_string())
        .push(" AND work_session_id IN (");
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(id.clone());
    }
    q.push(") ORDER BY server_name");
    let rows: Vec<(String, String, String)> = q.build_query_as().fetch_all(db).await?;
    for (session, server, name) in rows {
        map.entry(session).or_default().push(ServerRef {
            id: parse_id(&server)?,
            name,
        });
    }
    Ok(map)
}

async fn assemble(
    conn: &mut SqliteConnection,
    ws: WorkspaceId,
    rows: Vec<SessionRow>,
) -> Result<Vec<WorkSession>, StoreError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut servers = servers_of(&mut *conn, ws, &ids).await?;
    rows.into_iter()
        .map(|row| {
            let list = servers.remove(&row.id).unwrap_or_default();
            row.into_session(list)
        })
        .collect()
}

/// One session, read inside a write (so a change is computed from the row it will overwrite).
pub async fn get_on(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: WorkSessionId,
) -> Result<Option<WorkSession>, StoreError> {
    get_conn(tx.conn(), ws, id).await
}

async fn get_conn(
    conn: &mut SqliteConnection,
    ws: WorkspaceId,
    id: WorkSessionId,
) -> Result<Option<WorkSession>, StoreError> {
    let row: Option<SessionRow> =
        sqlx::query_as(&format!("{SELECT} WHERE ws.workspace_id = ? AND ws.id = ?"))
            .bind(ws.to_string())
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(assemble(conn, ws, vec![row]).await?.pop())
}

/// One session.
pub async fn get(
    db: &Db,
    ws: WorkspaceId,
    id: WorkSessionId,
) -> Result<Option<WorkSession>, StoreError> {
    let mut conn = db.pool.acquire().await?;
    get_conn(&mut conn, ws, id).await
}

/// Whose sessions a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Involving {
    Anyone,
    /// Requested by or assigned to this user.
    User(UserId),
}

/// Every filter of `GET /api/work-sessions`.
#[derive(Debug, Clone)]
pub struct ListFilter {
    /// `None` means every status.
    pub statuses: Option<Vec<Status>>,
    pub involving: Involving,
    /// Members see only sessions involving themselves, whatever else they ask for.
    pub visible_to: Option<UserId>,
    pub server: Option<String>,
    pub scope: Option<Scope>,
    pub q: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Continue after this (created_at, id), newest first.
    pub cursor: Option<(i64, String)>,
    pub limit: i64,
}

fn push_filters(q: &mut QueryBuilder<'_, Sqlite>, ws: WorkspaceId, f: &ListFilter) {
    q.push(" WHERE ws.workspace_id = ")
        .push_bind(ws.to_string());
    if let Some(statuses) = &f.statuses {
        q.push(" AND ws.status IN (");
        let mut sep = q.separated(", ");
        for status in statuses {
            sep.push_bind(status.as_str());
        }
        q.push(")");
    }
    for user in [
        f.visible_to,
        match f.involving {
            Involving::User(u) => Some(u),
            Involving::Anyone => None,
        },
    ]
    .into_iter()
    .flatten()
    {
        q.push(" AND (ws.requested_by = ")
            .push_bind(user.to_string())
            .push(" OR ws.assignee = ")
            .push_bind(user.to_string())
            .push(")");
    }
    if let Some(server) = &f.server {
        // Drive the query from the (workspace, server_name) index: a server appears in few
        // sessions, so this set is small and the remaining filters only check those rows.
        q.push(
            " AND ws.id IN (SELECT s.work_session_id FROM work_session_servers s \
             WHERE s.workspace_id = ",
        )
        .push_bind(ws.to_string())
        .push(" AND s.server_name = ")
        .push_bind(server.clone())
        .push(")");
    }
    if let Some(scope) = f.scope {
        q.push(" AND (',' || ws.scopes || ',') LIKE ")
            .push_bind(format!("%,{},%", scope.as_str()));
    }
    if let Some(text) = &f.q {
        q.push(" AND ws.purpose LIKE ")
            .push_bind(like_literal(text))
            .push(" ESCAPE '\\'");
    }
    if let Some(from) = f.from {
        q.push(" AND ws.created_at >= ").push_bind(to_micros(from));
    }
    if let Some(to) = f.to {
        q.push(" AND ws.created_at < ").push_bind(to_micros(to));
    }
}

/// One page of sessions, newest first, with the total that match and the next cursor.
pub async fn list(
    db: &Db,
    ws: WorkspaceId,
    f: &ListFilter,
) -> Result<(Vec<WorkSession>, i64, Option<(i64, String)>), StoreError> {
    let mut count = QueryBuilder::new("SELECT COUNT(*) FROM work_sessions ws");
    push_filters(&mut count, ws, f);
    let (total,): (i64,) = count.build_query_as().fetch_one(&db.pool).await?;

    let mut q = QueryBuilder::new(SELECT);
    push_filters(&mut q, ws, f);
    if let Some((created, id)) = &f.cursor {
        q.push(" AND (ws.created_at < ")
            .push_bind(*created)
            .push(" OR (ws.created_at = ")
            .push_bind(*created)
            .push(" AND ws.id < ")
            .push_bind(id.clone())
            .push("))");
    }
    q.push(" ORDER BY ws.created_at DESC, ws.id DESC LIMIT ")
        .push_bind(f.limit + 1);
    let mut rows: Vec<SessionRow> = q.build_query_as().fetch_all(&db.pool).await?;
    let next = if rows.len() as i64 > f.limit {
        rows.truncate(f.limit as usize);
        rows.last().map(|r| (r.created_at, r.id.clone()))
    } else {
        None
    };
    let mut conn = db.pool.acquire().await?;
    Ok((assemble(&mut conn, ws, rows).await?, total, next))
}

/// Sessions of the workspace whose deadline has passed, oldest deadline first.
pub async fn due(
    db: &Db,
    ws: WorkspaceId,
    now: DateTime<Utc>,
) -> Result<Vec<WorkSessionId>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM work_sessions WHERE workspace_id = ? AND next_deadline IS NOT NULL \
         AND next_deadline <= ? ORDER BY next_deadline LIMIT 500",
    )
    .bind(ws.to_string())
    .bind(to_micros(now))
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(|(id,)| parse_id(&id)).collect()
}

/// The workspace's earliest pending deadline, if any.
pub async fn next_deadline(db: &Db, ws: WorkspaceId) -> Result<Option<DateTime<Utc>>, StoreError> {
    let (min,): (Option<i64>,) = sqlx::query_as(
        "SELECT MIN(next_deadline) FROM work_sessions WHERE workspace_id = ? \
         AND next_deadline IS NOT NULL",
    )
    .bind(ws.to_string())
    .fetch_one(&db.pool)
    .await?;
    Ok(opt_from_micros(min))
}
