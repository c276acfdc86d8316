//! Extension requests: a work session pushed past its approved window by a non-superuser,
//! waiting for an approver or granted within the self-extension allowance.

use super::{parse_id, Db, StoreError, WriteTx};
use crate::time::{from_micros, to_micros};
use chrono::{DateTime, Utc};
use gatehouse_shared::approval::ApprovalStatus;
use gatehouse_shared::work_session::ExtendWorkSession;
use gatehouse_shared::{UserId, UserRef, WorkSessionId, WorkspaceId};
use uuid::Uuid;

/// One extension request as stored.
#[derive(Debug, Clone)]
pub struct Extension {
    pub id: Uuid,
    pub work_session: WorkSessionId,
    pub requested_by: UserRef,
    pub ask: ExtendWorkSession,
    pub amount_secs: i64,
    pub status: ApprovalStatus,
    pub self_granted: bool,
    pub created_at: DateTime<Utc>,
    pub decided_by: Option<UserRef>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

const SELECT: &str =
    "SELECT e.id, e.work_session_id, e.requested_by, r.username, e.duration_secs, \
     e.expires_at, e.amount_secs, e.status, e.self_granted, e.created_at, e.decided_by, \
     d.username, e.decided_at, e.reason \
     FROM extension_requests e JOIN users r ON r.id = e.requested_by \
     LEFT JOIN users d ON d.id = e.decided_by";

type Row = (
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    i64,
    String,
    bool,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

fn from_row(row: Row) -> Result<Extension, StoreError> {
    let (id, session, requester, requester_name, duration_secs, expires_at, amount_secs) =
        (row.0, row.1, row.2, row.3, row.4, row.5, row.6);
    let decided_by = match (row.10, row.11) {
        (Some(id), Some(username)) => Some(UserRef {
            id: parse_id(&id)?,
            username,
        }),
        _ => None,
    };
    Ok(Extension {
        id: parse_id(&id)?,
        work_session: parse_id(&session)?,
        requested_by: UserRef {
            id: parse_id(&requester)?,
            username: requester_name,
        },
        ask: ExtendWorkSession {
            duration_secs,
            expires_at: expires_at.map(from_micros),
        },
        amount_secs,
        status: row.7.parse().map_err(|e: String| StoreError::Corrupt(e))?,
        self_granted: row.8,
        created_at: from_micros(row.9),
        decided_by,
        decided_at: row.12.map(from_micros),
        reason: row.13,
    })
}

/// A new request; `granted` records one allowed at once within the self-extension allowance.
pub async fn insert(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    session: WorkSessionId,
    requested_by: UserId,
    ask: &ExtendWorkSession,
    amount_secs: i64,
    granted: bool,
) -> Result<Uuid, StoreError> {
    let id = Uuid::new_v4();
    let status = if granted {
        ApprovalStatus::Approved
    } else {
        ApprovalStatus::Pending
    };
    let at = to_micros(tx.at());
    sqlx::query(
        "INSERT INTO extension_requests (id, workspace_id, work_session_id, requested_by, \
         duration_secs, expires_at, amount_secs, status, self_granted, created_at, decided_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(ws.to_string())
    .bind(session.to_string())
    .bind(requested_by.to_string())
    .bind(ask.duration_secs)
    .bind(ask.expires_at.map(to_micros))
    .bind(amount_secs)
    .bind(status.as_str())
    .bind(granted)
    .bind(at)
    .bind(granted.then_some(at))
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Seconds already granted to this session without an approver, against the allowance.
pub async fn self_granted_secs(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    session: WorkSessionId,
) -> Result<i64, StoreError> {
    let (total,): (Option<i64>,) = sqlx::query_as(
        "SELECT SUM(amount_secs) FROM extension_requests \
         WHERE workspace_id = ? AND work_session_id = ? AND self_granted = 1",
    )
    .bind(ws.to_string())
    .bind(session.to_string())
    .fetch_one(tx.conn())
    .await?;
    Ok(total.unwrap_or(0))
}

pub async fn get(db: &Db, ws: WorkspaceId, id: Uuid) -> Result<Option<Extension>, StoreError> {
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE e.workspace_id = ? AND e.id = ?"))
            .bind(ws.to_string())
            .bind(id.to_string())
            .fetch_optional(&db.pool)
            .await?;
    row.map(from_row).transpose()
}

/// Reads a request inside a write, so its decision is made on exactly what is stored.
pub async fn get_on(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: Uuid,
) -> Result<Option<Extension>, StoreError> {
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} WHERE e.workspace_id = ? AND e.id = ?"))
            .bind(ws.to_string())
            .bind(id.to_string())
            .fetch_optional(tx.conn())
            .await?;
    row.map(from_row).transpose()
}

/// Decides a pending request; false when it was no longer pending.
pub async fn decide(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    id: Uuid,
    status: ApprovalStatus,
    decided_by: Option<UserId>,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    let at = to_micros(tx.at());
    let done = sqlx::query(
        "UPDATE extension_requests SET status = ?, decided_by = ?, decided_at = ?, reason = ? \
         WHERE workspace_id = ? AND id = ? AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(decided_by.map(|u| u.to_string()))
    .bind(at)
    .bind(reason)
    .bind(ws.to_string())
    .bind(id.to_string())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A session ended: whatever still waits for it lapses, in the same write as the ending.
pub async fn lapse_for_session(
    tx: &mut WriteTx,
    ws: WorkspaceId,
    session: WorkSessionId,
) -> Result<(), StoreError> {
    let at = to_micros(tx.at());
    sqlx::query(
        "UPDATE extension_requests SET status = 'lapsed', decided_at = ? \
         WHERE workspace_id = ? AND work_session_id = ? AND status = 'pending'",
    )
    .bind(at)
    .bind(ws.to_string())
    .bind(session.to_string())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Which requests a list shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// `None`: every status.
    pub statuses: Option<Vec<ApprovalStatus>>,
    pub requested_by: Option<UserId>,
    pub work_session: Option<WorkSessionId>,
    /// Leave out the ones granted at once (they were never in anyone's queue).
    pub exclude_self_granted: bool,
    pub limit: i64,
}

/// Requests, newest first.
pub async fn list(db: &Db, ws: WorkspaceId, f: &ListFilter) -> Result<Vec<Extension>, StoreError> {
    let mut sql = format!("{SELECT} WHERE e.workspace_id = ?");
    let mut binds = vec![ws.to_string()];
    if let Some(statuses) = &f.statuses {
        if statuses.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; statuses.len()].join(", ");
        sql.push_str(&format!(" AND e.status IN ({marks})"));
        binds.extend(statuses.iter().map(|s| s.as_str().to_owned()));
    }
    if let Some(user) = f.requested_by {
        sql.push_str(" AND e.requested_by = ?");
        binds.push(user.to_string());
    }
    if let Some(session) = f.work_session {
        sql.push_str(" AND e.work_session_id = ?");
        binds.push(session.to_string());
    }
    if f.exclude_self_granted {
        sql.push_str(" AND e.self_granted = 0");
    }
    sql.push_str(" ORDER BY e.created_at DESC, e.id LIMIT ?");
    let mut query = sqlx::query_as::<_, Row>(&sql);
    for bind in binds {
        query = query.bind(bind);
    }
    let rows = query.bind(f.limit).fetch_all(&db.pool).await?;
    rows.into_iter().map(from_row).collect()
}
